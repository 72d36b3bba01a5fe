using Vigil.Detectors.Audio.Loudness;
using Vigil.Events;
using Vigil.Media;
using Vigil.Transport;

namespace Vigil.Pipeline;

/// <summary>What one analysis saw: the contract's summary (<see cref="ToContract"/>) and the pipeline's own counts.</summary>
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

    /// <summary>The contract's summary line of this analysis, which reported <paramref name="defects"/> defects.</summary>
    public InputSummary ToContract(int defects) => new(
        Duration,
        Media.Video is { } v ? new VideoSummary(v.Codec, v.Width, v.Height, v.Fps, VideoFrames) : null,
        Media.Audio is { } a ? new AudioSummary(a.Codec, a.SampleRate, a.Channels) : null,
        Loudness is { } l ? new LoudnessSummary(l.IntegratedLufs, l.LoudnessRangeLu, l.TruePeakDbtp) : null,
        defects, CorruptPackets, DecodeErrors, Discontinuities, WallSeconds)
    {
        Transport = Transport?.Counts,
    };

    /// <summary>TR 101 290 failures per indicator, for an MPEG-TS input.</summary>
    public TransportCounts? Transport { get; init; }
}

/// <summary>Failures of each TR 101 290 indicator over the input (the summary's <c>transport</c>), by contract name.</summary>
public sealed record TransportCounts(IReadOnlyList<KeyValuePair<string, long>> Counts)
{
    /// <summary>The multiplex's counts, or those of programme <paramref name="program"/> (its PMT and PIDs) when not 0.</summary>
    public static TransportCounts Of(TransportAnalyzer analyzer, int program = 0)
    {
        var counts = program != 0 && analyzer.Programs.FirstOrDefault(p => p.Number == program) is { } p ? p.Counts : null;
        return new(Indicators.All.Select(i => KeyValuePair.Create(i.Name(), counts?[(int)i] ?? analyzer.Count(i))).ToList());
    }

    public long this[string indicator] => Counts.First(c => c.Key == indicator).Value;
}
