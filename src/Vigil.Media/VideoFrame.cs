namespace Vigil.Media;

/// <summary>Decoder error flags carried by a frame (AVFrame.decode_error_flags).</summary>
[Flags]
public enum DecodeErrors
{
    None = 0,
    InvalidBitstream = 1,
    MissingReference = 2,
    ConcealmentActive = 4,
    DecodeSlices = 8,
}

/// <summary>Picture coding type, as FFmpeg's AVPictureType.</summary>
public enum PictureType { Unknown = 0, I = 1, P = 2, B = 3, S = 4, SI = 5, SP = 6, BI = 7 }

/// <summary>
/// One decoded picture reduced to analysis form: 8-bit luma at the analysis size, tightly packed.
/// Frames are pooled and reference counted (<see cref="PooledBuffer{TSelf, TElement}"/>): whoever holds one
/// past the call that handed it over calls <see cref="PooledBuffer{TSelf, TElement}.Retain"/>, and every
/// holder calls <see cref="PooledBuffer{TSelf, TElement}.Release"/> once.
/// </summary>
public sealed class VideoFrame : PooledBuffer<VideoFrame, byte>
{
    internal VideoFrame(FramePool<VideoFrame>? pool, int capacity) : base(pool, capacity)
    {
    }

    /// <summary>A free-standing frame (tests, tools); not pooled.</summary>
    public static VideoFrame Create(int width, int height, double pts)
    {
        var frame = new VideoFrame(null, width * height);
        frame.Reset(width, height, pts);
        return frame;
    }

    public int Width { get; private set; }
    public int Height { get; private set; }
    /// <summary>Media time in seconds from the start of the input.</summary>
    public double Pts { get; set; }
    /// <summary>Frame duration in seconds; 0 when the container did not say.</summary>
    public double Duration { get; set; }
    public int SourceWidth { get; set; }
    public int SourceHeight { get; set; }
    public PictureType PictureType { get; set; }
    public bool IsKeyFrame { get; set; }
    /// <summary>
    /// Not a key frame, but it began at a packet flagged key: a recovery point, where a stream without key
    /// frames (intra refresh) starts a wave of intra blocks that renews the whole picture within a period.
    /// </summary>
    public bool IsRecoveryPoint { get; set; }
    public DecodeErrors DecodeErrors { get; set; }
    /// <summary>The decoder marked the whole frame corrupt.</summary>
    public bool IsCorrupt { get; set; }
    /// <summary>
    /// Decoded after, and shown before, a picture the decoder concealed: a B-picture predicted from a damaged
    /// one (the decoder flags only the damaged picture itself).
    /// </summary>
    public bool HasConcealedReference { get; set; }
    /// <summary>
    /// Share of the picture's macroblocks the decoder reported concealing (0 when none): counted from the
    /// bitstream, so the same at any decode thread count, unlike the concealed pixels themselves.
    /// </summary>
    public double ConcealedArea { get; set; }
    /// <summary>Luma spans 0..255 (JPEG range) rather than 16..235.</summary>
    public bool FullRange { get; set; }
    /// <summary>How the end of the input bears on this picture (<see cref="Media.InputEnd"/>).</summary>
    public InputEnd InputEnd { get; set; }

    /// <summary>Block-grid statistics of the full-resolution picture (<see cref="BlockGridStats.IsValid"/> false when absent).</summary>
    public BlockGridStats Grid { get; } = new();

    /// <summary>
    /// Fills <see cref="Grid"/> from this frame's own luma, for frames built in memory whose luma is the
    /// full-resolution picture (tests, tools).
    /// </summary>
    public void MeasureGrid() => BlockGridStats.Measure(Luma, Width, Width, Height, Grid);

    /// <summary>Row-major luma, <see cref="Width"/> bytes per row.</summary>
    public Span<byte> Luma => Storage.AsSpan(0, Width * Height);

    public ReadOnlySpan<byte> Row(int y) => Storage.AsSpan(y * Width, Width);

    internal void Reset(int width, int height, double pts)
    {
        Rearm(width * height);
        Width = width;
        Height = height;
        Pts = pts;
        Duration = 0;
        SourceWidth = width;
        SourceHeight = height;
        PictureType = PictureType.Unknown;
        IsKeyFrame = false;
        IsRecoveryPoint = false;
        DecodeErrors = DecodeErrors.None;
        IsCorrupt = false;
        HasConcealedReference = false;
        ConcealedArea = 0;
        FullRange = false;
        InputEnd = InputEnd.None;
        Grid.IsValid = false;
    }
}

/// <summary>
/// A recording stops where it was stopped, not where a picture ends: a captured transport stream's last
/// packet of each video stream is usually incomplete, and the pictures shown after it (decoded before it,
/// as references of B-pictures) miss the pictures between, whose packets came after the end. Neither says
/// anything about the feed; the converter marks them so that detectors do not report the cut.
/// </summary>
public enum InputEnd
{
    None = 0,
    /// <summary>Decoded from the stream's last packet before the input ended.</summary>
    Incomplete = 1,
    /// <summary>Shown after the <see cref="Incomplete"/> picture: the pictures between it and this one never came.</summary>
    AfterMissing = 2,
}
