using System.Diagnostics;
using Vigil.Media;

namespace Vigil.Service.Live;

/// <summary>
/// The latest analysis picture of one stream, as a small JPEG on demand (the dashboard's thumbnails).
/// The analysis thread only swaps one retained reference per frame; a request encodes (through the
/// shim's JPEG encoder) at most once per <see cref="MinInterval"/> and never the same frame twice, so a
/// wall of dashboards costs a bounded number of encodes however many poll it, and a stalled stream none.
/// </summary>
public sealed class LivePicture(TimeSpan minInterval)
{
    /// <summary>Thumbnails are at most this wide (the analysis picture is box-averaged down by a whole factor).</summary>
    public const int MaxWidth = 320;

    private readonly Lock _gate = new();      // the latest frame
    private readonly Lock _encoding = new();  // one encode at a time, and the cache
    private readonly string _instance = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..4]);
    private VideoFrame? _latest;
    private long _frames;
    private Thumbnail? _cached;

    public TimeSpan MinInterval { get; } = minInterval;

    /// <summary>Encodes done since start (for tests and metrics).</summary>
    public long Encodes { get; private set; }

    /// <summary>The analysis thread's newest picture: kept (retained) instead of the previous one.</summary>
    public void Offer(VideoFrame frame)
    {
        frame.Retain();
        VideoFrame? previous;
        lock (_gate)
        {
            previous = _latest;
            _latest = frame;
            _frames++;
        }
        previous?.Release();
    }

    /// <summary>The connection ended: the frame goes back to its pool; the last thumbnail stays (a stalled stream shows its last picture).</summary>
    public void Clear()
    {
        VideoFrame? previous;
        lock (_gate)
        {
            previous = _latest;
            _latest = null;
        }
        previous?.Release();
    }

    /// <summary>The current thumbnail: the cached one while it is recent or no newer frame came; null before any picture.</summary>
    public Thumbnail? Current()
    {
        lock (_encoding)
        {
            long number;
            VideoFrame? frame;
            lock (_gate)
            {
                number = _frames;
                frame = _latest;
                if (_cached is { } c && (c.Frame == number || Stopwatch.GetElapsedTime(c.EncodedAt) < MinInterval)) return c;
                frame?.Retain(); // under the lock: the analysis thread cannot release it in between
            }
            if (frame is null) return _cached;
            try
            {
                var jpeg = Encode(frame);
                Encodes++;
                _cached = new Thumbnail(jpeg, $"\"{_instance}-{number:x}\"", number, Stopwatch.GetTimestamp(), frame.Width, frame.Height);
            }
            finally
            {
                frame.Release();
            }
            return _cached;
        }
    }

    /// <summary>The thumbnail of <paramref name="frame"/> as a JPEG, through the shim's encoder.</summary>
    internal static byte[] Encode(VideoFrame frame)
    {
        var (pixels, width, height) = Reduce(frame);
        return JpegEncoder.EncodeGray(pixels, width, height);
    }

    /// <summary>
    /// Box-averages by the whole factor that brings the width to <see cref="MaxWidth"/> or less and expands
    /// limited-range luma (16–235) to the full range a JPEG is viewed in.
    /// </summary>
    internal static (byte[] Pixels, int Width, int Height) Reduce(VideoFrame frame)
    {
        var factor = (frame.Width + MaxWidth - 1) / MaxWidth;
        var width = frame.Width / factor;
        var height = frame.Height / factor;
        var pixels = new byte[width * height];
        var luma = frame.Luma;
        var area = factor * factor;
        var full = frame.FullRange;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var sum = 0;
                for (var dy = 0; dy < factor; dy++)
                {
                    var row = luma.Slice((y * factor + dy) * frame.Width + x * factor, factor);
                    foreach (var v in row) sum += v;
                }
                var mean = (sum + area / 2) / area;
                pixels[y * width + x] = full ? (byte)mean : (byte)Math.Clamp(((mean - 16) * 255 + 109) / 219, 0, 255);
            }
        }
        return (pixels, width, height);
    }
}

/// <summary>One encoded thumbnail: the JPEG, its ETag (stream instance and frame number), when it was made (Stopwatch ticks).</summary>
public sealed record Thumbnail(byte[] Jpeg, string ETag, long Frame, long EncodedAt, int SourceWidth, int SourceHeight);
