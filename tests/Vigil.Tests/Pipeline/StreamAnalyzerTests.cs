using Vigil.Detectors;
using Vigil.Detectors.Stream;
using Vigil.Detectors.Video;
using Vigil.Media;
using Vigil.Pipeline;
using Vigil.Tests.Support;
using Vigil.Tools.Corpus;

namespace Vigil.Tests.Pipeline;

/// <summary>
/// The pipeline around the detectors, on real clips: observers see each item before and after the
/// detectors and the end; every end (the input's, a failure, cancellation) flushes every detector at the
/// last media time analysed with <c>closed_by</c>; media time passing closes what its rule says is over.
/// </summary>
public sealed class StreamAnalyzerTests
{
    [Fact]
    public async Task RunAsync_Observers_SeeEachItemAroundTheDetectorsThenTheEndAfterTheFlush()
    {
        var log = new List<string>();
        using var source = MediaSource.Open(await TestClips.Content(), new MediaOpenOptions { DecodeThreads = 1, Audio = false });
        var summary = await new StreamAnalyzer(source, [new Probe(log)], observers: [new Watcher(log)]).RunAsync();

        var frames = log.Count(e => e == "detector");
        Assert.Equal(summary.VideoFrames, frames);
        for (var i = 0; i < log.Count; i++)
            if (log[i] == "detector") Assert.Equal(("before", "after"), (log[i - 1], log[i + 1]));
        Assert.Equal(["flush end_of_input", "end EndOfInput"], log[^2..]);
    }

    [Fact]
    public async Task RunAsync_DetectorFailsMidway_FlushesEveryDetectorWithErrorThenThrows()
    {
        // black from 2 s; at 3 s a detector fails (a bug): the black open then is closed there, marked error
        var sink = new RecordingSink();
        var ends = new List<AnalysisEnd>();
        using var source = MediaSource.Open(await TestClips.Black(), new MediaOpenOptions { DecodeThreads = 1, Audio = false });
        var black = new BlackDetector(new BlackOptions(), sink);
        var analyzer = new StreamAnalyzer(source, [black, new FailsAt(3.0)], observers: [new EndWatcher(ends)]);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => analyzer.RunAsync());

        Assert.Equal("detector failed at 3.00", failure.Message);
        var defect = Assert.Single(sink.Ended);
        Assert.Equal(2.0, defect.Start, 0.041);
        Assert.Equal(3.0, defect.End!.Value, 0.041);
        Assert.Equal(ClosedBy.Error, defect.ClosedBy);
        var end = Assert.Single(ends);
        Assert.Equal(EndReason.Error, end.Reason);
        Assert.Same(failure, end.Failure);
        Assert.Equal(defect.End!.Value, end.MediaTime, 0.041);
    }

    [Fact]
    public async Task RunAsync_Cancelled_FlushesWithTheCallersClosedBy()
    {
        var sink = new RecordingSink();
        using var cancel = new CancellationTokenSource();
        var ends = new List<AnalysisEnd>();
        using var source = MediaSource.Open(await TestClips.Black(), new MediaOpenOptions { DecodeThreads = 1, Audio = false });
        var analyzer = new StreamAnalyzer(source, [new BlackDetector(new BlackOptions(), sink)],
            new AnalyzerOptions { ClosedByOnCancel = ClosedBy.Restart }, [new CancelAt(3.5, cancel), new EndWatcher(ends)]);

        var summary = await analyzer.RunAsync(cancel.Token);

        var defect = Assert.Single(sink.Ended);
        Assert.Equal(ClosedBy.Restart, defect.ClosedBy);
        Assert.InRange(defect.End!.Value, 3.5, summary.Duration + 1e-9); // at the last media time analysed
        Assert.InRange(summary.Duration, 3.5, 4.0);
        Assert.Equal(EndReason.Cancelled, Assert.Single(ends).Reason);
    }

    [Fact]
    public async Task RunAsync_PacketLossThenCleanMedia_DiscontinuityClosedByMediaTimeNotAtTheEnd()
    {
        // issue 12.3: an incident of lost packets at ~2 s in 20 s of clean media closes ~1 s after its last
        // loss (its merge rule) while the media goes on, not at the end of input or at a later event
        var clean = await TestClips.Generate("clean-20s.ts",
            "-f lavfi -i testsrc2=size=320x240:rate=25:duration=20 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 25 -f mpegts");
        var damage = new TsDamage(await File.ReadAllBytesAsync(clean));
        for (var frame = 50; frame < 60; frame += 3) damage.DropPackets(frame, 1, 2);
        var lossy = Path.Combine(TestClips.WorkFolder, "loss-at-2s.ts");
        await File.WriteAllBytesAsync(lossy, damage.Build());

        var position = new PositionWatcher();
        var sink = new PositionSink(position);
        using var source = MediaSource.Open(lossy, new MediaOpenOptions { DecodeThreads = 1 });
        await new StreamAnalyzer(source, [new DiscontinuityDetector(new DiscontinuityOptions(), sink)], observers: [position]).RunAsync();

        var (defect, closedAt) = Assert.Single(sink.Ended);
        Assert.InRange(defect.Start, 1.5, 2.5);
        Assert.Null(defect.ClosedBy); // its own rule closed it
        Assert.InRange(closedAt, defect.End!.Value + new DiscontinuityOptions().Merge, defect.End!.Value + 2);
    }

    [Fact]
    public async Task RunAsync_TwoChannelsDieTogether_TwoDefectsWithTheirOwnKeys()
    {
        var result = await Analysis.RunAsync(await TestClips.TwoChannelsDieTogether(), "audio.silence");
        var silences = result.Of("audio.silence");
        Assert.Equal(2, silences.Count);
        Assert.Equal([1, 2], silences.Select(d => d.Channel!.Value).Order());
        Assert.Equal(silences[0].Start, silences[1].Start);
        Assert.NotEqual(silences[0].Key, silences[1].Key);
        Assert.All(silences, d => Assert.Equal(ClosedBy.EndOfInput, d.ClosedBy)); // still silent at the end
    }

    /// <summary>A video detector that only logs.</summary>
    private sealed class Probe(List<string> log) : IVideoDetector
    {
        public string Kind => "test.probe";
        public void Process(VideoFrame frame) => log.Add("detector");
        public void Tick(double now) { }
        public void OnDiscontinuity(in Discontinuity discontinuity) { }
        public void Flush(double endOfInput, string closedBy) => log.Add($"flush {closedBy}");
    }

    private sealed class Watcher(List<string> log) : IAnalysisObserver
    {
        public void BeforeVideo(VideoFrame frame) => log.Add("before");
        public void AfterVideo(VideoFrame frame) => log.Add("after");
        public void OnEnd(in AnalysisEnd end) => log.Add($"end {end.Reason}");
    }

    /// <summary>A detector with a bug: it throws on the first picture at or after <paramref name="at"/>.</summary>
    private sealed class FailsAt(double at) : IVideoDetector
    {
        public string Kind => "test.fails";
        public void Process(VideoFrame frame)
        {
            if (frame.Pts >= at - 1e-6) throw new InvalidOperationException($"detector failed at {frame.Pts:0.00}");
        }
        public void Tick(double now) { }
        public void OnDiscontinuity(in Discontinuity discontinuity) { }
        public void Flush(double endOfInput, string closedBy) { }
    }

    private sealed class CancelAt(double at, CancellationTokenSource cancel) : IAnalysisObserver
    {
        public void AfterVideo(VideoFrame frame)
        {
            if (frame.Pts >= at) cancel.Cancel();
        }
    }

    private sealed class EndWatcher(List<AnalysisEnd> ends) : IAnalysisObserver
    {
        public void OnEnd(in AnalysisEnd end) => ends.Add(end);
    }

    /// <summary>The media time the analysis has reached (the end of the latest picture or block).</summary>
    private sealed class PositionWatcher : IAnalysisObserver
    {
        public double Reached { get; private set; }
        public void AfterVideo(VideoFrame frame) => Reached = Math.Max(Reached, frame.Pts + frame.Duration);
        public void AfterAudio(AudioBlock block) => Reached = Math.Max(Reached, block.Pts + block.Duration);
    }

    /// <summary>Records each ended defect with the media time the analysis had reached when it ended.</summary>
    private sealed class PositionSink(PositionWatcher position) : IDefectSink
    {
        public List<(Defect Defect, double At)> Ended { get; } = [];
        public void DefectStarted(Defect defect) { }
        public void DefectEnded(Defect defect) => Ended.Add((defect, position.Reached));
    }
}
