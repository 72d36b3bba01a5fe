namespace Vigil.Media;

/// <summary>Something the converter noticed in the bitstream itself, in stream order.</summary>
public enum MediaEventKind
{
    /// <summary>
    /// The demuxer flagged a packet corrupt. Not raised for MPEG-TS, where the transport analyser's
    /// <see cref="PacketsLost"/> says what really went missing (the demuxer also flags, for one, a PES
    /// length that does not match its packets: 293 flags on test-072, which lost nothing).
    /// </summary>
    PacketCorrupt = 1,
    /// <summary>The decoder rejected a packet.</summary>
    DecodeError = 2,
    /// <summary>The stream switched to another codec mid-stream; a new decoder took over.</summary>
    CodecChange = 3,
    /// <summary>Timestamps jumped (splice, wrap, encoder restart); <see cref="MediaEvent.Value"/> is the jump in seconds.
    /// Raised by the pipeline, which keeps media time continuous across it.</summary>
    TimestampJump = 4,
    /// <summary>Frames are missing: a gap of <see cref="MediaEvent.Value"/> seconds between consecutive video frames.
    /// Raised by the pipeline.</summary>
    FrameGap = 5,
    /// <summary>MPEG-TS packets lost, by the transport analyser's continuity counters: <see cref="MediaEvent.Value"/> packets
    /// on the stream's PID (<see cref="MediaEvent.StreamIndex"/>; -1 for a PID that is not a decoded stream).</summary>
    PacketsLost = 6,
}

/// <summary>
/// A bitstream-level event at media time <see cref="Pts"/> (NaN when the packet had no timestamp), with a
/// kind-specific <see cref="Value"/>.
/// </summary>
public readonly record struct MediaEvent(MediaEventKind Kind, int StreamIndex, double Pts, double Value = 0);
