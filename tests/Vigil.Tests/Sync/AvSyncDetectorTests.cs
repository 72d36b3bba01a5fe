using Vigil.Detectors.Sync;
using Vigil.Events;
using Vigil.Detectors;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Sync;

/// <summary>
/// The detector on synthetic frames and blocks fed in demux-like interleaved order (no FFmpeg):
/// the contract cases (empty input, flush, time going backwards, resolution change) and allocation.
/// </summary>
public sealed class AvSyncDetectorTests
{
    private const double Fps = 25;
    private const int Rate = 48_000;
    private const int BlockLength = 1024;

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    [InlineData(-0.12)]
    public void Process_SyntheticBeepFlash_EstimatesEveryWindowWithin20ms(double offset)
    {
        var sink = new DefectCollector();
        var estimates = new List<SyncEstimate>();
        var detector = new AvSyncDetector(new AvSyncOptions(), sink) { EstimateObserved = estimates.Add };

        var end = Feed(detector, 0, 20, offset);
        detector.Flush(end);

        Assert.True(estimates.Count >= 10);
        Assert.All(estimates, e => Assert.InRange(e.Offset, offset - 0.020, offset + 0.020));
        var outside = offset > 0.125 || offset < -0.045;
        Assert.Equal(outside ? 1 : 0, sink.Count);
        if (outside) Assert.Equal(end, sink.Ended[0].End!.Value, 3); // still open at the end: closed there
    }

    [Fact]
    public void Flush_NothingFed_NoDefect()
    {
        var sink = new DefectCollector();
        var detector = new AvSyncDetector(new AvSyncOptions(), sink);

        detector.Flush(0);

        Assert.Equal(0, sink.Count);
    }

    [Fact]
    public void Process_VideoOnly_NeverEstimates()
    {
        var estimates = new List<SyncEstimate>();
        var detector = new AvSyncDetector(new AvSyncOptions(), new DefectCollector()) { EstimateObserved = estimates.Add };

        for (var n = 0; n < 20 * Fps; n++) detector.Process(Frame(n / Fps, IsFlash(n / Fps), 64));
        detector.Flush(20);

        Assert.Empty(estimates);
    }

    [Fact]
    public void Process_TimeGoesBackwards_ClosesAndStartsAfresh()
    {
        var sink = new DefectCollector();
        var estimates = new List<SyncEstimate>();
        var detector = new AvSyncDetector(new AvSyncOptions(), sink) { EstimateObserved = estimates.Add };

        var feed = new TimelineFeed(detector); // as in the pipeline: the timeline maps the restart and reports the break
        Feed(detector, 100, 120, 0.3, feed: feed);   // a live stream at 100–120 s, audio 300 ms late
        var before = estimates.Count;
        Feed(detector, 0, 20, 0.3, feed: feed); // restarts at 0: media time continues at 120
        detector.Flush(140);

        Assert.True(before >= 10);
        Assert.True(estimates.Count - before >= 10);
        Assert.All(estimates, e => Assert.InRange(e.Offset, 0.28, 0.32));
        Assert.Equal(2, sink.Count);
        Assert.True(sink.Ended[0].End <= 120.5);
        Assert.InRange(sink.Ended[1].Start, sink.Ended[0].End!.Value, 140);
    }

    [Fact]
    public void Tick_AudioStopsWithOffsetOpen_ClosesOnMediaTimePassingNotAtTheEnd()
    {
        // issue 12.3: estimates need both tracks; when the audio goes, the open av.sync must still close
        var sink = new RecordingSink();
        var detector = new AvSyncDetector(new AvSyncOptions(), sink);
        var audioEnd = Feed(detector, 0, 20, 0.3); // audio 300 ms late: reported
        Assert.Single(sink.Started);

        // a minute of pictures alone; the pipeline's tick follows the slowest track until it has been silent 10 s
        for (var n = 0; n < 60 * Fps; n++)
        {
            var frame = Frame(20 + n / Fps, IsFlash(20 + n / Fps), 64);
            detector.Process(frame);
            detector.Tick(Math.Max(audioEnd, frame.Pts + frame.Duration - Continuity.StoppedTrack));
        }

        var defect = Assert.Single(sink.Ended);
        Assert.Null(defect.ClosedBy); // closed by its own rule (max_gap without evidence), not by the end of input
        Assert.InRange(defect.End!.Value, 15, 20.5);
        detector.Flush(80);
        Assert.Single(sink.Ended);
    }

    [Fact]
    public void Process_ResolutionChanges_KeepsMeasuring()
    {
        var estimates = new List<SyncEstimate>();
        var detector = new AvSyncDetector(new AvSyncOptions(), new DefectCollector()) { EstimateObserved = estimates.Add };

        var end = Feed(detector, 0, 24, 0.1, widthAt: t => t < 12 ? 64 : 48);
        detector.Flush(end);

        Assert.Contains(estimates, e => e.FirstEvent > 12.5);
        Assert.All(estimates, e => Assert.InRange(e.Offset, 0.08, 0.12));
    }

    [Fact]
    public void Process_SteadyState_AllocatesNothing()
    {
        var estimates = 0;
        var detector = new AvSyncDetector(new AvSyncOptions(), new DefectCollector()) { EstimateObserved = _ => estimates++ };
        var frames = new[] { Frame(0, false, 64), Frame(0, true, 64) };
        var beep = Block(0, 0, beep: true);
        var quiet = Block(0, 0, beep: false);
        Feed(detector, 0, 20, 0, frames, beep, quiet); // warm up: buffers sized, code compiled

        var before = GC.GetAllocatedBytesForCurrentThread();
        Feed(detector, 20, 40, 0, frames, beep, quiet);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(estimates >= 30);
        Assert.Equal(0, allocated);
    }

    /// <summary>Irregular sync events: 0.6 s, then gaps cycling 0.92 … 1.40 s (all on the 25 fps frame grid).</summary>
    private static readonly double[] Flashes = FlashTimes();

    private static double[] FlashTimes()
    {
        double[] gaps = [0.92, 1.28, 0.76, 1.12, 1.40, 0.84, 1.04, 1.24, 0.80, 1.16];
        var times = new List<double>();
        for (var (t, i) = (0.6, 0); t < 200; t += gaps[i++ % gaps.Length]) times.Add(Math.Round(t * Fps) / Fps);
        return times.ToArray();
    }

    private static bool IsFlash(double time)
    {
        var i = Array.BinarySearch(Flashes, time - 0.5 / Fps);
        if (i < 0) i = ~i;
        return i < Flashes.Length && Flashes[i] < time + 0.5 / Fps;
    }

    /// <summary>
    /// Feeds [<paramref name="from"/>, <paramref name="to"/>) seconds: flashes and, <paramref name="offset"/>
    /// later, one-frame 1 kHz beeps, interleaved as a demuxer would (audio kept up to the video's time).
    /// With <paramref name="frames"/>/<paramref name="beepBlock"/>/<paramref name="quietBlock"/> given,
    /// those objects are re-stamped and reused (the allocation test), and beeps are whole blocks.
    /// </summary>
    private static double Feed(AvSyncDetector detector, double from, double to, double offset,
        VideoFrame[]? frames = null, AudioBlock? beepBlock = null, AudioBlock? quietBlock = null, Func<double, int>? widthAt = null,
        TimelineFeed? feed = null)
    {
        var blockSeconds = BlockLength / (double)Rate;
        var nextBlock = from;
        for (var n = 0; from + n / Fps < to; n++)
        {
            var time = from + n / Fps;
            var flash = IsFlash(time - from);
            VideoFrame frame;
            if (frames is not null)
            {
                frame = frames[flash ? 1 : 0];
                frame.Pts = time;
            }
            else frame = Frame(time, flash, widthAt?.Invoke(time) ?? 64);
            if (feed is not null) frame.Pts = feed.Map(MediaTrack.Video, frame.Pts, frame.Duration);
            detector.Process(frame);
            while (nextBlock < time + 1 / Fps)
            {
                AudioBlock block;
                if (beepBlock is not null)
                {
                    var beeping = IsFlash(Math.Round((nextBlock - from - offset) * Fps) / Fps) &&
                                  Math.Abs(nextBlock - from - offset - Math.Round((nextBlock - from - offset) * Fps) / Fps) < blockSeconds / 2;
                    block = beeping ? beepBlock : quietBlock!;
                    block.Pts = nextBlock;
                }
                else block = Block(nextBlock, nextBlock - from - offset, beep: null);
                if (feed is not null) block.Pts = feed.Map(MediaTrack.Audio, block.Pts, block.Duration);
                detector.Process(block);
                nextBlock += blockSeconds;
            }
        }
        return to;
    }

    private static VideoFrame Frame(double pts, bool flash, int width)
    {
        var frame = VideoFrame.Create(width, width * 3 / 4, pts);
        frame.Duration = 1 / Fps;
        frame.Luma.Fill(flash ? (byte)235 : (byte)16);
        return frame;
    }

    /// <summary>A block at <paramref name="pts"/>; the beep pattern is evaluated at content time <paramref name="content"/> unless <paramref name="beep"/> forces it.</summary>
    private static AudioBlock Block(double pts, double content, bool? beep)
    {
        var block = AudioBlock.Create(2, BlockLength, Rate, pts);
        for (var i = 0; i < BlockLength; i++)
        {
            var t = content + i / (double)Rate;
            var on = beep ?? (IsFlash(Math.Floor(t * Fps) / Fps) && t - Math.Floor(t * Fps) / Fps < 1 / Fps);
            var value = on ? (float)(0.5 * Math.Sin(2 * Math.PI * 1000 * i / Rate)) : 0f;
            block.Channel(0)[i] = value;
            block.Channel(1)[i] = value;
        }
        return block;
    }
}
