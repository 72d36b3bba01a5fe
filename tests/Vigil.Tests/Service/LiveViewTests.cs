using Vigil.Media;
using Vigil.Service;
using Vigil.Service.Live;
using Vigil.Service.Notify;
using Vigil.Service.Store;

namespace Vigil.Tests.Service;

/// <summary>
/// What the dashboard reads besides events: thumbnails (encoded on demand, bounded), audio meters per
/// second with an hour of loudness in a fixed ring, and alarms in the store (acknowledgements by defect
/// identity, the history by time range). Inputs are built in memory, so every expectation is exact.
/// </summary>
public sealed class LiveViewTests
{
    private const double Epoch = 1_700_000_000;

    [Fact]
    public void LivePicture_PolledOftenWithinItsInterval_EncodesOnce()
    {
        var picture = new LivePicture(TimeSpan.FromHours(1)); // the interval never passes during the test
        Assert.Null(picture.Current());
        picture.Offer(Frame(320, 180, 100, pts: 0));
        var first = picture.Current()!;
        picture.Offer(Frame(320, 180, 200, pts: 0.04));
        for (var i = 0; i < 10; i++) Assert.Same(first, picture.Current());
        Assert.Equal(1, picture.Encodes);
    }

    [Fact]
    public void LivePicture_NoNewFrame_NeverEncodesTheSamePictureTwice()
    {
        var picture = new LivePicture(TimeSpan.Zero); // any request may encode: only a new frame makes it do so
        picture.Offer(Frame(320, 180, 100, pts: 0));
        var first = picture.Current()!;
        Assert.Same(first, picture.Current());
        Assert.Equal(1, picture.Encodes);

        picture.Offer(Frame(320, 180, 200, pts: 0.04));
        var second = picture.Current()!;
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal(2, picture.Encodes);

        // the connection ends: the last picture stays (a stalled stream shows where it stopped)
        picture.Clear();
        Assert.Same(second, picture.Current());
        Assert.Equal(2, picture.Encodes);
    }

    [Fact]
    public void LivePicture_Reduce_BoxAveragesToAtMost320WideAndExpandsLimitedRange()
    {
        // 640×360, limited range: left half black (16), right half white (235) but for one column of 2×2 blocks of 16,16,235,235
        var frame = VideoFrame.Create(640, 360, 0);
        for (var y = 0; y < 360; y++)
            for (var x = 0; x < 640; x++)
                frame.Luma[y * 640 + x] = (byte)(x < 320 ? 16 : x < 322 ? (y % 2 == 0 ? 16 : 235) : 235);
        var (pixels, width, height) = LivePicture.Reduce(frame);
        Assert.Equal((320, 180), (width, height));
        Assert.Equal(0, pixels[0]);
        Assert.Equal(255, pixels[319]);
        Assert.Equal(128, pixels[160]); // (16+235+16+235)/4 = 125.5 → 126 → (126−16)·255/219 = 128
        var jpeg = LivePicture.Encode(frame);
        Assert.Equal((320, 180), JpegSize(jpeg));

        // an analysis picture already narrow enough keeps its size
        Assert.Equal((240, 136), JpegSize(LivePicture.Encode(Frame(240, 136, 90, 0))));
    }

    [Fact]
    public void LiveMeters_SineOnOneChannel_LevelsLoudnessAndTruePeakPerSecond()
    {
        // left: 997 Hz at half scale (peak −6.02 dBFS, RMS −9.03 dBFS; BS.1770 gives −9.03 LUFS for it);
        // right: digital silence
        var meters = new LiveMeters(Epoch);
        Feed(meters, seconds: 5.1, from: 0, amplitude: 0.5); // into second 5, which completes second 4
        var m = meters.Latest!;
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((long)Epoch + 4), m.Time); // the last complete second
        Assert.Equal(2, m.Channels.Count);
        Assert.Equal(-6.0, m.Channels[0].Peak!.Value, 0.1);
        Assert.Equal(-9.0, m.Channels[0].Rms!.Value, 0.1);
        Assert.Null(m.Channels[1].Peak);
        Assert.Equal(-9.0, m.ShortTerm!.Value, 0.2);
        Assert.Equal(-9.0, m.Momentary!.Value, 0.2);
        Assert.Equal(-6.0, m.TruePeak!.Value, 0.2);

        // the history: one value per second, none before the 3 s window was full
        var history = meters.History(until: 5, seconds: 5);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((long)Epoch), history.Start);
        Assert.Equal(5, history.ShortTerm.Count);
        Assert.Null(history.ShortTerm[0]);
        Assert.Equal(-9.0, history.ShortTerm[4]!.Value, 0.2);
        Assert.All(history.TruePeak, tp => Assert.Equal(-6.0, tp!.Value, 0.2));
    }

    [Fact]
    public void LiveMeters_TruePeakOfEachSecond_NotTheLoudestSoFar()
    {
        var meters = new LiveMeters(Epoch);
        Feed(meters, seconds: 2, from: 0, amplitude: 0.9);
        Feed(meters, seconds: 3.1, from: 2, amplitude: 0.1);
        var history = meters.History(until: 5, seconds: 4);
        Assert.Equal(-0.9, history.TruePeak[0]!.Value, 0.2);  // second 1: 0.9 → −0.92 dBTP
        Assert.Equal(-20.0, history.TruePeak[3]!.Value, 0.2); // second 4: 0.1 → −20 dBTP
    }

    [Fact]
    public void LiveMeters_RingAfterAnHour_ShowsNothingOfTheSecondItOverwrote()
    {
        var meters = new LiveMeters(Epoch);
        Feed(meters, seconds: 2, from: 10, amplitude: 0.5);
        Assert.NotNull(meters.History(until: 11, seconds: 1).TruePeak[0]); // second 10
        Feed(meters, seconds: 2, from: 10 + LiveMeters.HistorySeconds, amplitude: 0.5);
        // second 10's slot now holds second 3610: asking for second 10 finds nothing, not the newer value
        Assert.Null(meters.History(until: 11, seconds: 1).TruePeak[0]);
        Assert.NotNull(meters.History(until: 11 + LiveMeters.HistorySeconds, seconds: 1).TruePeak[0]);
    }

    /// <summary>Blocks of 1024 samples at 48 kHz, stereo: a 997 Hz sine of <paramref name="amplitude"/> left, silence right.</summary>
    private static void Feed(LiveMeters meters, double seconds, double from, double amplitude)
    {
        const int rate = 48_000, size = 1024;
        var total = (long)(seconds * rate);
        for (long n = 0; n < total; n += size)
        {
            var block = AudioBlock.Create(2, size, rate, from + n / (double)rate);
            var left = block.Channel(0);
            for (var i = 0; i < size; i++) left[i] = (float)(amplitude * Math.Sin(2 * Math.PI * 997 * (n + i) / rate));
            block.Channel(1).Clear();
            meters.Offer(block, block.Pts);
        }
    }

    private static VideoFrame Frame(int width, int height, byte value, double pts)
    {
        var frame = VideoFrame.Create(width, height, pts);
        frame.Luma.Fill(value);
        return frame;
    }

    /// <summary>Width and height from a JPEG's SOF0 segment.</summary>
    private static (int Width, int Height) JpegSize(byte[] jpeg)
    {
        Assert.True(jpeg[0] == 0xFF && jpeg[1] == 0xD8, "a JPEG");
        for (var i = 2; i + 9 < jpeg.Length;)
        {
            if (jpeg[i] != 0xFF) { i++; continue; }
            var marker = jpeg[i + 1];
            var length = (jpeg[i + 2] << 8) | jpeg[i + 3];
            if (marker is 0xC0 or 0xC1) return ((jpeg[i + 7] << 8) | jpeg[i + 8], (jpeg[i + 5] << 8) | jpeg[i + 6]);
            i += 2 + length;
        }
        throw new InvalidDataException("no SOF0 in the JPEG");
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"vigil-liveview-{Guid.NewGuid():N}");

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
