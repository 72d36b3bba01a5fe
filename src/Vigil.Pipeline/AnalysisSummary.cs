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
    double WallSeconds);
