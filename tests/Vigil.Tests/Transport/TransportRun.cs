using Vigil.Transport;

namespace Vigil.Tests.Transport;

/// <summary>An analyser run over bytes, with every event it reported.</summary>
public sealed class TransportRun : ITransportEventSink
{
    public List<TransportEvent> Events { get; } = [];
    public TransportAnalyzer Analyzer { get; }

    public TransportRun(TransportOptions? options = null) => Analyzer = new TransportAnalyzer(this, options);

    public void OnTransportEvent(in TransportEvent e) => Events.Add(e);

    /// <summary>Feeds <paramref name="bytes"/> in chunks of <paramref name="chunk"/> bytes (odd sizes split packets), then finishes.</summary>
    public static TransportRun Of(byte[] bytes, int chunk = 1000, TransportOptions? options = null)
    {
        var run = new TransportRun(options);
        for (var i = 0; i < bytes.Length; i += chunk) run.Analyzer.Feed(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
        run.Analyzer.Finish();
        return run;
    }

    public long Count(Indicator indicator) => Analyzer.Count(indicator);

    public IEnumerable<TransportEvent> Raised(Indicator indicator) => Events.Where(e => e.Kind == TransportEventKind.Raised && e.Indicator == indicator);

    public IEnumerable<TransportEvent> Cleared(Indicator indicator) => Events.Where(e => e.Kind == TransportEventKind.Cleared && e.Indicator == indicator);

    /// <summary>Indicators that failed at least once, with their counts (for "nothing else" assertions).</summary>
    public Dictionary<Indicator, long> Failed() => Indicators.All.Where(i => Count(i) > 0).ToDictionary(i => i, Count);
}
