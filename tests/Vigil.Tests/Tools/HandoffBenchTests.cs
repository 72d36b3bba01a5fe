using System.Text.Json;
using Vigil.Media;
using Vigil.Tests.Support;
using Vigil.Tools.Bench;
using Vigil.Tools.Bench.Handoff;

namespace Vigil.Tests.Tools;

/// <summary>
/// <c>vigil bench handoff</c>: a tiny real run (one live stream of 8 s, real s3rver, real SQLite, real worker
/// processes) reports the same defects both ways, the clip's known ones, with object and transition counts that
/// follow from the pictures and seconds processed; and the pieces it rests on (objects, comparison, prices).
/// Nothing here is timed.
/// </summary>
public class HandoffBenchTests
{
    [Fact]
    public async Task TinyRun_BothDesigns_SameKnownDefectsAndCountsThatFollowFromTheMedia()
    {
        var work = Path.Combine(Path.GetTempPath(), $"vigil-handoff-test-{Guid.NewGuid():N}");
        try
        {
            var r = await HandoffBench.RunAsync(new HandoffBenchOptions { Streams = 1, Periods = 1, VigilCli = VigilCli.Assembly, WorkDir = work },
                TextWriter.Null, CancellationToken.None);
            var (a, b) = (r.InMemory, r.ObjectStorage);

            // same defects, and they are the clip's: black at 1 s, frozen at 3 s, silent at 5 s (one each)
            Assert.Empty(HandoffBench.DefectDifferences(a.Streams, b.Streams));
            var defects = a.Streams[0].Defects.Select(line => JsonDocument.Parse(line).RootElement).ToList();
            foreach (var (kind, from) in HandoffClip.KnownDefects)
            {
                var found = Assert.Single(defects, d => d.GetProperty("kind").GetString() == kind);
                Assert.InRange(found.GetProperty("start").GetDouble(), from - 0.1, from + 0.3);
            }

            // every picture analysed in memory was put once and got once, and each second's object likewise
            var frames = a.Streams[0].Frames;
            Assert.InRange(frames, (long)(HandoffClip.Seconds * HandoffClip.Fps) - 5, (long)(HandoffClip.Seconds * HandoffClip.Fps));
            Assert.Equal(frames, b.ConverterFrames);
            Assert.Equal(frames, b.Streams[0].Frames);
            Assert.Equal(a.Streams[0].AudioBlocks, b.Streams[0].AudioBlocks);
            var seconds = b.ConverterSeconds;
            Assert.InRange(seconds, (long)HandoffClip.Seconds - 1, (long)HandoffClip.Seconds + 1);
            Assert.Equal(seconds, b.Streams[0].Seconds);
            Assert.Equal(frames + seconds, b.Puts);
            Assert.Equal(frames + seconds, b.Gets);
            Assert.Equal(b.Puts, b.ObjectsStored);
            Assert.Equal(b.BytesPut, b.BytesGot);
            Assert.True(b.BytesPut >= frames * 640L * 360, $"{b.BytesPut} bytes put for {frames} pictures of 640×360 analysis luma");

            // one transition per second from the converter, and one per detector per second
            var detectors = b.Streams[0].Detectors;
            Assert.Equal(r.Detectors.Count, detectors.Count);
            Assert.Equal(seconds, b.Transitions[Orchestration.Converted]);
            foreach (var kind in detectors) Assert.Equal(seconds, b.Transitions[kind]);
            Assert.Equal(seconds * (detectors.Count + 1), b.TransitionCount);

            // the in-memory design moves nothing between processes and orchestrates nothing
            Assert.Equal(0, a.Puts + a.Gets + a.BytesMoved + a.TransitionCount);
            Assert.All(a.Processes.Concat(b.Processes), p => Assert.True(p.CpuSeconds > 0 && p.PeakRssMiB > 0, $"{p.Name}: {p}"));
            Assert.Equal(3, b.Processes.Count);
            Assert.True(r.Cost(b).Puts > 0 && r.Cost(a).Puts == 0);
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void FrameObject_RoundTrip_SameLumaGridAndMetadata()
    {
        var frame = VideoFrame.Create(64, 48, 12.34);
        new Random(7).NextBytes(frame.Luma);
        frame.MeasureGrid();
        (frame.Duration, frame.SourceWidth, frame.SourceHeight) = (0.04, 1280, 960);
        (frame.PictureType, frame.IsKeyFrame, frame.IsRecoveryPoint) = (PictureType.P, false, true);
        (frame.DecodeErrors, frame.IsCorrupt, frame.FullRange) = (DecodeErrors.MissingReference | DecodeErrors.ConcealmentActive, true, true);
        (frame.HasConcealedReference, frame.ConcealedArea) = (true, 0.25);
        var bytes = new byte[HandoffObjects.FrameSize(frame)];

        Assert.Equal(bytes.Length, HandoffObjects.WriteFrame(frame, bytes));
        var back = HandoffObjects.ReadFrame(bytes, reuse: null);

        Assert.Equal((64, 48, 12.34, 0.04, 1280, 960), (back.Width, back.Height, back.Pts, back.Duration, back.SourceWidth, back.SourceHeight));
        Assert.Equal((PictureType.P, false, true, true, true), (back.PictureType, back.IsKeyFrame, back.IsRecoveryPoint, back.IsCorrupt, back.FullRange));
        Assert.Equal(frame.DecodeErrors, back.DecodeErrors);
        Assert.Equal((true, 0.25), (back.HasConcealedReference, back.ConcealedArea));
        Assert.True(back.Luma.SequenceEqual(frame.Luma));
        Assert.True(back.Grid.IsValid);
        Assert.Equal((frame.Grid.BlockColumns, frame.Grid.BlockRows), (back.Grid.BlockColumns, back.Grid.BlockRows));
        Assert.True(back.Grid.AllMaps.SequenceEqual(frame.Grid.AllMaps));
        Assert.True(back.Grid.EdgeLeft.SequenceEqual(frame.Grid.EdgeLeft) && back.Grid.Activity.SequenceEqual(frame.Grid.Activity));
    }

    [Fact]
    public void FrameObject_CutShort_RefusedNotMisread()
    {
        var frame = VideoFrame.Create(32, 16, 1);
        var bytes = new byte[HandoffObjects.FrameSize(frame)];
        HandoffObjects.WriteFrame(frame, bytes);

        Assert.Throws<InvalidDataException>(() => HandoffObjects.ReadFrame(bytes.AsSpan(0, bytes.Length - 1), null));
        bytes[0] ^= 0xFF;
        Assert.Throws<InvalidDataException>(() => HandoffObjects.ReadFrame(bytes, null));
    }

    [Fact]
    public void SecondObject_RoundTrip_SameEntriesInTheSameOrder()
    {
        var writer = new HandoffObjects.SecondWriter();
        writer.Begin(41);
        var block = AudioBlock.Create(2, 3, 48000, 7.5);
        float[] samples = [0.1f, -0.2f, 0.3f, 1f, -1f, 0f];
        samples.CopyTo(block.AllSamples);
        writer.AddFrame(1000);
        writer.AddAudio(block);
        writer.AddEvent(new MediaEvent(MediaEventKind.PacketCorrupt, 1, 7.52));
        writer.AddFrame(1001);

        var entries = HandoffObjects.ReadSecond(writer.Finish().Span, out var second);

        Assert.Equal(41, second);
        Assert.Equal([HandoffObjects.EntryKind.Frame, HandoffObjects.EntryKind.Audio, HandoffObjects.EntryKind.Event, HandoffObjects.EntryKind.Frame],
            entries.Select(e => e.Kind));
        Assert.Equal([1000L, 1001L], entries.Where(e => e.Kind == HandoffObjects.EntryKind.Frame).Select(e => e.FrameSequence));
        var audio = entries[1].Audio!;
        Assert.Equal((2, 3, 48000, 7.5), (audio.Channels, audio.SampleCount, audio.SampleRate, audio.Pts));
        Assert.Equal(samples, audio.AllSamples.ToArray());
        Assert.Equal(new MediaEvent(MediaEventKind.PacketCorrupt, 1, 7.52), entries[2].Event);
    }

    [Fact]
    public void DefectDifferences_OneDefectMovedOrMissing_Reported()
    {
        const string black = """{"event":"defect","kind":"video.black","start":1.021,"end":2.541,"confidence":1.0}""";
        const string moved = """{"event":"defect","kind":"video.black","start":1.061,"end":2.541,"confidence":1.0}""";
        const string silence = """{"event":"defect","kind":"audio.silence","start":5.04,"end":7.53,"confidence":1.0}""";
        HandoffStreamReport Report(params string[] defects) => new(200, 376, 8, 0, 8, [], defects);

        Assert.Empty(HandoffBench.DefectDifferences([Report(black, silence)], [Report(silence, black)])); // order of ending aside
        Assert.Equal(2, HandoffBench.DefectDifferences([Report(black, silence)], [Report(moved, silence)]).Count);
        Assert.Single(HandoffBench.DefectDifferences([Report(black, silence)], [Report(black)]));
        Assert.Single(HandoffBench.DefectDifferences([Report(black, black)], [Report(black)]));
        Assert.NotEmpty(HandoffBench.DefectDifferences([Report(black)], [Report(black), Report(black)]));
    }

    [Fact]
    public void Prices_CommittedFile_EveryPriceSourcedAndDated_AndCostsAddUp()
    {
        var prices = Prices.Load();

        Assert.All(prices.All, p => Assert.True(p.Price.Price > 0 && p.Price.Source.Length > 10 && p.Price.AsOf.Length >= 4, p.Name));
        // an hour of one vCPU, a GiB for the hour, 1,000 of each request and transition: exactly the list prices
        var cost = StreamHourCost.Of(prices, cpuSeconds: 3600, memoryGib: 1, puts: 1000, gets: 1000, transitions: 1000);
        Assert.Equal(prices.ComputePerVcpuHour.Price, cost.Compute, 12);
        Assert.Equal(prices.MemoryPerGibHour.Price, cost.Memory, 12);
        Assert.Equal(prices.ObjectPutPer1000.Price + prices.ObjectGetPer1000.Price + prices.TransitionPer1000.Price,
            cost.Puts + cost.Gets + cost.Transitions, 12);
        Assert.Equal(cost.Compute + cost.Memory + cost.Puts + cost.Gets + cost.Transitions, cost.Total, 12);
    }

    [Fact]
    public void Prices_MissingPrice_RefusedWithItsName()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-prices-{Guid.NewGuid():N}.json");
        try
        {
            var text = File.ReadAllText(Prices.DefaultPath);
            using var json = JsonDocument.Parse(text);
            var trimmed = json.RootElement.EnumerateObject().Where(p => p.Name != "transition_per_1000").ToDictionary(p => p.Name, p => p.Value);
            File.WriteAllText(path, JsonSerializer.Serialize(trimmed));

            var e = Assert.Throws<InvalidDataException>(() => Prices.Load(path));

            Assert.Contains("transition_per_1000", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
