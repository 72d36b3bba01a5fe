using Vigil.Detectors;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Tests.Support;

/// <summary>Runs a clip through the real pipeline (MediaSource → StreamAnalyzer → catalog detectors).</summary>
public static class Analysis
{
    /// <summary>What one analysis reported.</summary>
    public sealed record Result(AnalysisSummary Summary, IReadOnlyList<Defect> Started, IReadOnlyList<Defect> Ended)
    {
        /// <summary>Ended defects of one kind, in order.</summary>
        public IReadOnlyList<Defect> Of(string kind) => Ended.Where(d => d.Kind == kind).ToList();
    }

    /// <summary>Analyses <paramref name="clip"/> with the selected detectors (all when null) and settings.</summary>
    public static async Task<Result> RunAsync(string clip, string? detectors = null, params string[] settings)
    {
        var parsed = DetectorSettings.Parse(settings);
        var sink = new RecordingSink();
        using var source = MediaSource.Open(clip, new MediaOpenOptions { DecodeThreads = 1 });
        var selected = DetectorCatalog.Select(detectors);
        var created = DetectorCatalog.Create(selected, new DetectorContext(source.Info, sink, parsed));
        // the catalog quietly skips a detector the input cannot feed (audio on a silent clip): a test that names one
        // and then expects nothing of it would pass without the detector ever running
        if (detectors is not null && created.Count != selected.Count)
            throw new InvalidOperationException($"{clip} cannot feed every selected detector ({detectors}): built {created.Count} of {selected.Count}");
        var summary = await new StreamAnalyzer(source, created).RunAsync();
        return new Result(summary, sink.Started, sink.Ended);
    }
}

/// <summary>An <see cref="IDefectSink"/> that records every event in order (single-threaded use).</summary>
public sealed class RecordingSink : IDefectSink
{
    private readonly List<Defect> _started = [];
    private readonly List<Defect> _ended = [];
    private readonly List<(bool Started, Defect Defect)> _all = [];

    public IReadOnlyList<Defect> Started => _started;
    public IReadOnlyList<Defect> Ended => _ended;

    /// <summary>Every event in arrival order; <c>Started</c> tells which kind of event.</summary>
    public IReadOnlyList<(bool Started, Defect Defect)> All => _all;

    public void DefectStarted(Defect defect)
    {
        _started.Add(defect);
        _all.Add((true, defect));
    }

    public void DefectEnded(Defect defect)
    {
        _ended.Add(defect);
        _all.Add((false, defect));
    }
}
