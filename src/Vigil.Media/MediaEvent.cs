namespace Vigil.Media;

/// <summary>Something the converter noticed in the bitstream itself, in stream order.</summary>
public enum MediaEventKind
{
    /// <summary>The demuxer flagged a packet corrupt, e.g. an MPEG-TS continuity-counter error.</summary>
    PacketCorrupt = 1,
    /// <summary>The decoder rejected a packet.</summary>
    DecodeError = 2,
}

/// <summary>A bitstream-level event at media time <see cref="Pts"/> (NaN when the packet had no timestamp).</summary>
public readonly record struct MediaEvent(MediaEventKind Kind, int StreamIndex, double Pts);
