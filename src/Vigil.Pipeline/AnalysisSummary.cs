using Vigil.Detectors.Audio.Loudness;
using Vigil.Media;

namespace Vigil.Pipeline;

/// <summary>What one analysis saw, for the contract's summary line.</summary>
public sealed record AnalysisSummary(
    MediaInfo Media,
    double Duration,
    long VideoFrames,
    long AudioBlocks,
    long CorruptPackets,
    long DecodeErrors,
    long Discontinuities,
    long ShedFrames,
    double WallSeconds)
{
    /// <summary>Whole-input loudness (BS.1770-4 / EBU R128) when the input has audio.</summary>
    public LoudnessReading? Loudness { get; init; }
}
