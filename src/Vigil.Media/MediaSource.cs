using System.Runtime.InteropServices;
using Vigil.Media.Native;

namespace Vigil.Media;

/// <summary>What <see cref="MediaSource.Read"/> produced.</summary>
public enum MediaItemKind { End, Video, Audio, Event }

/// <summary>One item from the converter; exactly one of the payloads is set, per <see cref="Kind"/>.</summary>
public readonly record struct MediaItem(MediaItemKind Kind, VideoFrame? Video = null, AudioBlock? Audio = null, MediaEvent Event = default);

/// <summary>
/// An opened input (file or URL) decoded through the native shim into pooled analysis frames.
/// Not thread-safe except <see cref="Interrupt"/>, which unblocks a read from another thread.
/// </summary>
public sealed class MediaSource : IMediaReader, IDisposable
{
    private nint _ctx;
    private readonly FramePool<VideoFrame> _videoPool;
    private readonly FramePool<AudioBlock> _audioPool;

    private MediaSource(nint ctx, MediaInfo info)
    {
        _ctx = ctx;
        Info = info;
        var lumaSize = info.Video is { } v ? v.AnalysisWidth * v.AnalysisHeight : 0;
        _videoPool = new FramePool<VideoFrame>(pool => new VideoFrame(pool, lumaSize));
        _audioPool = new FramePool<AudioBlock>(pool => new AudioBlock(pool, 2 * 2048));
    }

    public MediaInfo Info { get; }

    /// <summary>FFmpeg version the shim runs against.</summary>
    public static string FfmpegVersion => Marshal.PtrToStringUTF8(NativeMethods.Version()) ?? "?";

    /// <summary>Opens <paramref name="url"/>; throws <see cref="MediaException"/> with a one-line reason.</summary>
    public static unsafe MediaSource Open(string url, MediaOpenOptions? options = null)
    {
        options ??= new MediaOpenOptions();
        var native = new VgOpenOptions
        {
            DecodeThreads = options.DecodeThreads,
            AnalysisMaxWidth = options.AnalysisMaxWidth,
            OpenTimeoutSeconds = options.OpenTimeout.TotalSeconds,
            IoTimeoutSeconds = options.IoTimeout?.TotalSeconds ?? 0,
            WantVideo = options.Video ? 1 : 0,
            WantAudio = options.Audio ? 1 : 0,
            WantGridStats = options.GridStatistics ? 1 : 0,
        };
        const int errorSize = 512;
        byte* error = stackalloc byte[errorSize];
        error[0] = 0;
        if (NativeMethods.Open(url, native, out var ctx, error, errorSize) < 0)
            throw new MediaException($"{url}: {NativeMethods.FixedString(error, errorSize)}");
        NativeMethods.GetInfo(ctx, out var i);
        var video = i.VideoStream >= 0
            ? new VideoInfo(i.VideoStream, NativeMethods.FixedString(i.VideoCodec, 32), i.Width, i.Height, i.AnalysisWidth, i.AnalysisHeight, i.Fps)
            : null;
        var audio = i.AudioStream >= 0
            ? new AudioInfo(i.AudioStream, NativeMethods.FixedString(i.AudioCodec, 32), i.SampleRate, i.Channels)
            : null;
        var info = new MediaInfo(NativeMethods.FixedString(i.FormatName, 32), i.Duration >= 0 ? i.Duration : null, video, audio);
        return new MediaSource(ctx, info);
    }

    /// <summary>
    /// Reads the next item. Returns kind <see cref="MediaItemKind.End"/> at the end of the input; throws
    /// <see cref="MediaStalledException"/> when a live input stops delivering and <see cref="MediaException"/>
    /// when it fails. The caller owns (and must release) any frame or block returned.
    /// </summary>
    public unsafe MediaItem Read()
    {
        ObjectDisposedException.ThrowIf(_ctx == 0, this);
        var result = NativeMethods.Read(_ctx, out var item);
        if (result < 0)
        {
            var message = Marshal.PtrToStringUTF8(NativeMethods.LastError(_ctx)) ?? "unknown error";
            if (result == NativeMethods.ErrStalled) throw new MediaStalledException(message);
            if (result == NativeMethods.ErrInterrupted) throw new OperationCanceledException(message);
            throw new MediaException(message);
        }
        if (result == 0) return new MediaItem(MediaItemKind.End);
        switch (item.Kind)
        {
            case VgItemKind.Video:
            {
                var frame = _videoPool.Rent();
                frame.Reset(item.Width, item.Height, item.Pts);
                frame.Duration = item.Duration;
                frame.SourceWidth = item.SourceWidth;
                frame.SourceHeight = item.SourceHeight;
                frame.PictureType = (PictureType)item.PictType;
                frame.IsKeyFrame = item.KeyFrame != 0;
                frame.IsRecoveryPoint = item.RecoveryPoint != 0;
                frame.DecodeErrors = (DecodeErrors)item.DecodeErrorFlags;
                frame.IsCorrupt = item.Corrupt != 0;
                frame.FullRange = item.FullRange != 0;
                if (item.Grid != null) frame.Grid.CopyFrom(*item.Grid);
                var dst = frame.Luma;
                if (item.LumaStride == item.Width)
                    new ReadOnlySpan<byte>(item.Luma, item.Width * item.Height).CopyTo(dst);
                else
                    for (var y = 0; y < item.Height; y++)
                        new ReadOnlySpan<byte>(item.Luma + (nint)y * item.LumaStride, item.Width).CopyTo(dst.Slice(y * item.Width, item.Width));
                return new MediaItem(MediaItemKind.Video, Video: frame);
            }
            case VgItemKind.Audio:
            {
                var block = _audioPool.Rent();
                block.Reset(item.Channels, item.SampleCount, item.SampleRate, item.Pts);
                new ReadOnlySpan<float>(item.Samples, item.Channels * item.SampleCount).CopyTo(block.AllSamples);
                return new MediaItem(MediaItemKind.Audio, Audio: block);
            }
            default:
                return new MediaItem(MediaItemKind.Event, Event: new MediaEvent((MediaEventKind)item.EventCode, item.StreamIndex, item.Pts));
        }
    }

    /// <summary>Makes a blocked <see cref="Read"/> return (with <see cref="OperationCanceledException"/>). Thread-safe.</summary>
    public void Interrupt()
    {
        var ctx = _ctx;
        if (ctx != 0) NativeMethods.Interrupt(ctx);
    }

    /// <summary>Pictures reduced to analysis luma band by band while being decoded (single-threaded H.264/MPEG-2).</summary>
    internal long BandReducedPictures => _ctx != 0 ? NativeMethods.BandReducedPictures(_ctx) : 0;

    public void Dispose()
    {
        var ctx = Interlocked.Exchange(ref _ctx, 0);
        if (ctx != 0) NativeMethods.Close(ctx);
    }
}
