using System.CommandLine;
using Vigil.Detectors;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Cli;

/// <summary><c>vigil analyze INPUT</c>: one input through the selected detectors, reported in the event contract.</summary>
internal static class AnalyzeCommand
{
    public const int ExitOk = 0, ExitInputFailed = 1, ExitUsage = 2;

    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "File path or URL (http(s)/HLS, srt://, udp://, rtmp://, rtsp://)" };
        var json = new Option<bool>("--json") { Description = "JSON Lines on stdout (EVENTS.md): defect lines, then a summary line" };
        var detectors = new Option<string?>("--detectors", "-d") { Description = $"Comma-separated kinds or families to run (default: all): {string.Join(", ", DetectorCatalog.Kinds)}" };
        var settings = new Option<string[]>("--set", "-s")
        {
            Description = "Threshold as kind.option=value, repeatable (e.g. video.freeze.min_duration=3); see `vigil detectors`",
            AllowMultipleArgumentsPerToken = false,
        };
        var threads = new Option<int>("--decode-threads") { Description = "Video decode threads (0: one per core)", DefaultValueFactory = _ => 0 };
        var width = new Option<int>("--analysis-width") { Description = "Detectors see luma box-averaged to at most this width", DefaultValueFactory = _ => 640 };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds of media (live inputs never end by themselves)" };
        var stall = new Option<double>("--stall-timeout") { Description = "A network input that delivers nothing for this many seconds fails as stalled", DefaultValueFactory = _ => 10 };
        var starts = new Option<bool>("--starts") { Description = "With --json, also print a defect_start line the moment each defect is confirmed (as the service does)" };
        var programs = new Option<string?>("--program") { Description = "Programmes (service ids) of a multiplex to analyse, e.g. 3401,3402 (default: every TV and radio programme)" };
        var command = new Command("analyze", "Analyse a file or live URL and report defects") { input, json, detectors, settings, threads, width, duration, stall, starts, programs };
        command.SetAction(async (parse, cancel) =>
        {
            var request = new AnalyzeRequest(
                parse.GetValue(input)!, parse.GetValue(json), parse.GetValue(detectors),
                parse.GetValue(settings) ?? [], parse.GetValue(threads), parse.GetValue(width))
            {
                Duration = parse.GetValue(duration),
                StallTimeout = parse.GetValue(stall),
                Starts = parse.GetValue(starts),
                Programs = parse.GetValue(programs),
            };
            return await RunAsync(request, cancel);
        });
        return command;
    }

    public sealed record AnalyzeRequest(string Input, bool Json, string? Detectors, string[] Settings, int DecodeThreads, int AnalysisWidth)
    {
        public double? Duration { get; init; }
        public double StallTimeout { get; init; } = 10;
        public bool Starts { get; init; }
        /// <summary>Comma-separated service ids; null: every programme.</summary>
        public string? Programs { get; init; }
    }

    /// <summary>A URL with a network scheme (files and pipes never stall; a feed can).</summary>
    private static bool IsNetwork(string input) =>
        Uri.TryCreate(input, UriKind.Absolute, out var uri) && uri.Scheme is not ("file" or "pipe") && uri.Scheme.Length > 1;

    public static async Task<int> RunAsync(AnalyzeRequest request, CancellationToken cancel)
    {
        IReadOnlyList<DetectorDescriptor> selected;
        DetectorSettings settings;
        IReadOnlyList<int>? programs;
        try
        {
            selected = DetectorCatalog.Select(request.Detectors);
            settings = DetectorSettings.Parse(request.Settings);
            DetectorCatalog.Validate(settings);
            programs = ParsePrograms(request.Programs);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"vigil: {e.Message}");
            return ExitUsage;
        }

        MediaSource source;
        try
        {
            source = MediaSource.Open(request.Input, DetectorCatalog.DecodeFor(selected, new MediaOpenOptions
            {
                DecodeThreads = request.DecodeThreads,
                AnalysisMaxWidth = request.AnalysisWidth,
                IoTimeout = IsNetwork(request.Input) && request.StallTimeout > 0 ? TimeSpan.FromSeconds(request.StallTimeout) : null,
                EveryProgram = true,
                Programs = programs,
            }, settings));
        }
        catch (MediaException e)
        {
            await Console.Error.WriteLineAsync($"vigil: {e.Message}");
            return ExitInputFailed;
        }

        using (source)
        {
            if (source.IsMultiplex) return await RunMultiplexAsync(request, source, selected, settings, cancel);
            var output = request.Json ? Console.Out : null;
            void Print(Defect defect)
            {
                if (output is null) return;
                lock (output) output.WriteLine(ContractJson.Defect(defect));
            }
            var collector = new DefectCollector(onStarted: request.Starts ? Print : null, onEnded: Print);
            var detectors = DetectorCatalog.Create(selected, new DetectorContext(source.Info, collector, settings));
            var analyzer = new StreamAnalyzer(source, detectors, new AnalyzerOptions { MaxDuration = request.Duration });
            AnalysisSummary summary;
            try
            {
                summary = request.Json || Console.IsErrorRedirected
                    ? await analyzer.RunAsync(cancel)
                    : await TerminalReport.WithProgressAsync(source.Info, analyzer, cancel);
            }
            catch (MediaException e)
            {
                // the defects open when the input failed were closed (closed_by "error") and printed as they ended
                if (!request.Json && collector.Count > 0) TerminalReport.PrintDefects(collector.Ended);
                await Console.Error.WriteLineAsync($"vigil: {request.Input}: {e.Message}");
                return ExitInputFailed;
            }
            if (summary.VideoFrames == 0 && summary.AudioBlocks == 0)
            {
                await Console.Error.WriteLineAsync($"vigil: {request.Input}: nothing could be decoded");
                return ExitInputFailed;
            }
            if (request.Json) Console.Out.WriteLine(ContractJson.Summary(summary.ToContract(collector.Count)));
            else TerminalReport.Print(request.Input, summary, collector.Ended);
            return ExitOk;
        }
    }

    /// <summary>
    /// Every chosen programme of a multiplex, each with its own detectors and timeline, from one read of the
    /// input: defect lines carry <c>program</c>, the summary has <c>programs</c> and its top-level fields describe
    /// the first programme (its <c>defects</c> counts every line printed, <c>transport</c> the whole multiplex).
    /// </summary>
    private static async Task<int> RunMultiplexAsync(AnalyzeRequest request, MediaSource source, IReadOnlyList<DetectorDescriptor> selected,
        DetectorSettings settings, CancellationToken cancel)
    {
        var output = request.Json ? Console.Out : null;
        void Print(Defect defect)
        {
            if (output is null) return;
            lock (output) output.WriteLine(ContractJson.Defect(defect));
        }
        var collectors = source.Programs.Select(_ => new DefectCollector(onStarted: request.Starts ? Print : null, onEnded: Print)).ToList();
        var analyses = source.Programs.Select((p, i) => new ProgramAnalysis(p,
            DetectorCatalog.Create(selected, new DetectorContext(p, new ProgramSink(p.Program, collectors[i]), settings)))).ToList();
        var analyzer = new MultiplexAnalyzer(source, analyses, new AnalyzerOptions { MaxDuration = request.Duration });
        MultiplexSummary summary;
        try
        {
            summary = await analyzer.RunAsync(cancel);
        }
        catch (MediaException e)
        {
            if (!request.Json) TerminalReport.PrintDefects(collectors.SelectMany(c => c.Ended).ToList());
            await Console.Error.WriteLineAsync($"vigil: {request.Input}: {e.Message}");
            return ExitInputFailed;
        }
        if (summary.Programs.All(p => p.VideoFrames == 0 && p.AudioBlocks == 0))
        {
            await Console.Error.WriteLineAsync($"vigil: {request.Input}: nothing could be decoded");
            return ExitInputFailed;
        }
        var entries = summary.Programs.Select((p, i) => new ProgramSummary(p.Media.Program, p.Media.ServiceName, p.ToContract(collectors[i].Count))).ToList();
        var first = summary.Programs[0];
        var total = collectors.Sum(c => c.Count);
        if (request.Json)
        {
            var top = first.ToContract(total) with { Transport = summary.Transport?.Counts, Programs = entries, WallSeconds = summary.WallSeconds };
            Console.Out.WriteLine(ContractJson.Summary(top));
        }
        else
        {
            for (var i = 0; i < summary.Programs.Count; i++)
                TerminalReport.Print($"{request.Input} programme {entries[i].Program}" + (entries[i].ServiceName is { } n ? $" ({n})" : ""),
                    summary.Programs[i], collectors[i].Ended);
        }
        return ExitOk;
    }

    /// <summary><c>--program 3401,3402</c>: service ids (null: every programme); anything else is a usage error.</summary>
    private static IReadOnlyList<int>? ParsePrograms(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var numbers = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n is < 1 or > 65535)
                throw new ArgumentException($"--program: '{part}' is not a programme number (1-65535)");
            if (!numbers.Contains(n)) numbers.Add(n);
        }
        return numbers;
    }
}
