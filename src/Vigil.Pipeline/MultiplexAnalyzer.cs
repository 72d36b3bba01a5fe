using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Vigil.Detectors;
using Vigil.Media;

namespace Vigil.Pipeline;

/// <summary>One programme of a multiplex to analyse: what it holds (<see cref="MediaSource.Programs"/>) and its detectors.</summary>
public sealed record ProgramAnalysis(MediaInfo Program, IReadOnlyList<IDetector> Detectors, IReadOnlyList<IAnalysisObserver>? Observers = null);

/// <summary>What a multiplex analysis saw: each programme's summary (in <see cref="MediaSource.Programs"/> order) and the multiplex's transport.</summary>
public sealed record MultiplexSummary(IReadOnlyList<AnalysisSummary> Programs, TransportCounts? Transport, double WallSeconds);

/// <summary>
/// Every programme of a multiplex, each as its own analysis (detectors, timeline from its own clock, loudness,
/// summary), from one read of the input: one thread reads the <see cref="MediaSource"/> (one receive, one demux,
/// a decoder per programme) and hands each item to its programme's <see cref="StreamAnalyzer"/>, in stream order
/// and on that same thread, so the answer never depends on thread timing. Findings on the multiplex as a whole
/// (sync, PAT) go to the first programme, whose summary the contract's top-level fields describe.
/// </summary>
public sealed class MultiplexAnalyzer
{
    private readonly MediaSource _source;
    private readonly StreamAnalyzer[] _programs;
    private readonly Dictionary<int, StreamAnalyzer> _byNumber = [];

    public MultiplexAnalyzer(MediaSource source, IReadOnlyList<ProgramAnalysis> programs, AnalyzerOptions? options = null)
    {
        if (programs.Count == 0) throw new ArgumentException("no programme to analyse", nameof(programs));
        if (options?.ShedWhenBehind == true) throw new ArgumentException("a multiplex is analysed inline", nameof(options));
        _source = source;
        _programs = programs.Select(p => new StreamAnalyzer(source, p.Program, p.Detectors, options, p.Observers)).ToArray();
        for (var i = 0; i < programs.Count; i++) _byNumber[programs[i].Program.Program] = _programs[i];
    }

    /// <summary>Media time reached by the programme furthest on, in seconds.</summary>
    public double Position => _programs.Max(p => p.Position);

    /// <summary>Analyses every programme to the end of the input (or cancellation); a failure surfaces after every programme was flushed.</summary>
    public async Task<MultiplexSummary> RunAsync(CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        Exception? failure = null;
        using (cancellation.Register(_source.Interrupt))
        {
            var done = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var reader = new Thread(() => done.SetResult(Read(cancellation))) { IsBackground = true, Name = "vigil-multiplex" };
            reader.Start();
            failure = await done.Task.ConfigureAwait(false);
        }
        foreach (var item in _source.FinishTransport())
            (item.Program == 0 ? _programs[0] : _byNumber.GetValueOrDefault(item.Program))?.PushFinal(item);
        var summaries = _programs.Select(p => p.Finish(failure, cancellation.IsCancellationRequested)).ToList();
        if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();
        var transport = _source.Transport is { IsTransportStream: true } t ? TransportCounts.Of(t) : null;
        return new MultiplexSummary(summaries, transport, clock.Elapsed.TotalSeconds);
    }

    private Exception? Read(CancellationToken cancellation)
    {
        try
        {
            foreach (var p in _programs) p.Begin();
            var stopped = new HashSet<StreamAnalyzer>();
            while (stopped.Count < _programs.Length)
            {
                var item = _source.Read();
                if (item.Kind == MediaItemKind.End) break;
                var program = item.Program == 0 ? _programs[0] : _byNumber.GetValueOrDefault(item.Program);
                if (program is null)
                {
                    item.Video?.Release();
                    item.Audio?.Release();
                }
                else if (!program.Push(item))
                {
                    stopped.Add(program); // this programme reached the duration asked for
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            return e;
        }
        return null;
    }
}
