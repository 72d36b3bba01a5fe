using System.Diagnostics;
using System.Globalization;
using Vigil.Transport;

namespace Vigil.Tools.Bench;

/// <summary>What <see cref="TransportBench"/> measured.</summary>
/// <param name="MediaSeconds">Length of the multiplex.</param>
/// <param name="BitsPerSecond">Its mux rate, as the analyser measured it from the PCRs.</param>
/// <param name="Packets">Transport packets analysed.</param>
/// <param name="Programs">Programmes in the multiplex (its PAT).</param>
/// <param name="AnalyserCpuSeconds">The TR 101 290 analyser over the file's bytes (best of the repeats).</param>
/// <param name="DecodeCpuSeconds"><c>ffmpeg -threads 1 -i X -map 0:v -map 0:a -f null -</c>: every programme decoded (best of the repeats).</param>
/// <param name="Failures">Indicators that failed on the clean multiplex (expected: none).</param>
/// <param name="DatagramCpuSeconds">The analyser over the same bytes in 1316-byte datagrams, as a UDP input hands them over, without arrival times.</param>
/// <param name="LiveCpuSeconds">The same datagrams each stamped with the clock and fed with its (paced) arrival time: the live path, PCR accuracy from arrival times included.</param>
public sealed record TransportBenchResult(double MediaSeconds, double BitsPerSecond, long Packets, int Programs,
    double AnalyserCpuSeconds, double DecodeCpuSeconds, IReadOnlyDictionary<string, long> Failures,
    double DatagramCpuSeconds = double.NaN, double LiveCpuSeconds = double.NaN)
{
    /// <summary>The analyser's CPU as a share of decoding the same input.</summary>
    public double Ratio => AnalyserCpuSeconds / DecodeCpuSeconds;

    /// <summary>The live path's CPU (datagrams with arrival times) as a share of decoding.</summary>
    public double LiveRatio => LiveCpuSeconds / DecodeCpuSeconds;

    /// <summary>What stamping and judging arrival times adds per datagram (live path against the same datagrams without).</summary>
    public double ArrivalNanosecondsPerDatagram => (LiveCpuSeconds - DatagramCpuSeconds) / (Packets / 7.0) * 1e9;

    public double NanosecondsPerPacket => AnalyserCpuSeconds / Packets * 1e9;

    /// <summary>Megabits of transport stream the analyser gets through per CPU-second.</summary>
    public double MegabitsPerCpuSecond => Packets * 188 * 8 / 1e6 / AnalyserCpuSeconds;
}

/// <summary>
/// <c>vigil bench transport</c>: the transport analyser's cost against decoding. Generates a constant-rate
/// 40 Mb/s multiplex of four H.264 720p programmes with AAC (grain keeps the encoder at its 9 Mb/s), then times,
/// in the same run, the analyser over the file's bytes in 64 KiB reads (what the shim's tap hands it) and
/// the ffmpeg CLI decoding every programme on one thread; and the live path: the bytes as UDP datagrams, without
/// and with an arrival time each (a clock read per datagram, as the shim's tap stamps each read). CPU comes from getrusage, so other load slows the wall
/// clock but not the ratio; each side runs <c>repeats</c> times, interleaved, and the best counts.
/// </summary>
public static class TransportBench
{
    public const int MuxRate = 40_000_000;

    public static async Task<TransportBenchResult> RunAsync(string workDir, TextWriter log, CancellationToken cancel,
        int seconds = 30, int repeats = 3, int programs = 4)
    {
        Directory.CreateDirectory(workDir);
        var input = Path.Combine(workDir, $"mux-40M-{programs}x720p-{seconds}s.ts");
        if (!File.Exists(input))
        {
            await log.WriteLineAsync($"transport: generating {seconds} s of a 40 Mb/s multiplex of {programs} programmes…");
            await FfmpegCli.RunAsync($"{GenerateArguments(seconds, programs)} \"{input}.tmp.ts\"", cancel, TimeSpan.FromMinutes(30));
            File.Move($"{input}.tmp.ts", input, overwrite: true);
        }
        var bytes = await File.ReadAllBytesAsync(input, cancel);
        double analyser = double.MaxValue, decode = double.MaxValue, datagrams = double.MaxValue, live = double.MaxValue;
        TransportAnalyzer? last = null;
        var liveFailures = 0L;
        for (var i = 0; i < repeats; i++)
        {
            var (cpu, analyzer) = Analyse(bytes);
            var (datagramCpu, _) = AnalyseDatagrams(bytes, arrival: false);
            var (liveCpu, liveAnalyzer) = AnalyseDatagrams(bytes, arrival: true);
            liveFailures = Indicators.All.Sum(k => liveAnalyzer.Count(k));
            var before = ProcessCpu.Seconds(ProcessCpu.Children);
            await FfmpegCli.RunAsync($"-hide_banner -nostats -threads 1 -i \"{input}\" -map 0:v -map 0:a -f null -", cancel, TimeSpan.FromMinutes(30));
            var ffmpeg = ProcessCpu.Seconds(ProcessCpu.Children) - before;
            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"transport: run {i + 1}: analyser {cpu:0.000} s CPU, ffmpeg decode {ffmpeg:0.00} s CPU ({cpu / ffmpeg:0.00%}); datagrams {datagramCpu:0.000} s, with arrival times {liveCpu:0.000} s ({liveCpu / ffmpeg:0.00%})"));
            analyser = Math.Min(analyser, cpu);
            datagrams = Math.Min(datagrams, datagramCpu);
            live = Math.Min(live, liveCpu);
            decode = Math.Min(decode, ffmpeg);
            last = analyzer;
        }
        var failures = Indicators.All.Where(k => last!.Count(k) > 0).ToDictionary(k => k.Name(), k => last!.Count(k));
        if (liveFailures > 0) failures["live path (any)"] = liveFailures;
        return new TransportBenchResult(last!.Time, last.BitsPerSecond, last.Packets, last.Programs.Count, analyser, decode, failures, datagrams, live);
    }

    /// <summary>The ffmpeg arguments (before the output file) that generate the multiplex.</summary>
    public static string GenerateArguments(int seconds, int programs)
    {
        var inputs = new List<string>();
        var maps = new List<string>();
        var groups = new List<string>();
        for (var k = 0; k < programs; k++)
        {
            inputs.Add($"-f lavfi -i \"testsrc2=size=1280x720:rate=25:duration={seconds},noise=alls=12:allf=t\" -f lavfi -i \"sine=frequency={440 + 110 * k}:duration={seconds}\"");
            maps.Add($"-map {2 * k}:v -map {2 * k + 1}:a");
            groups.Add($"-program program_num={k + 1}:title=P{k + 1}:st={2 * k}:st={2 * k + 1}");
        }
        return "-hide_banner -loglevel error -y " + string.Join(" ", inputs) + " " + string.Join(" ", maps) +
               " -c:v libx264 -preset ultrafast -b:v 9M -maxrate 9M -bufsize 3M -g 50 -c:a aac -b:a 128k " +
               string.Join(" ", groups) + $" -muxrate {MuxRate} -f mpegts";
    }

    private static (double Cpu, TransportAnalyzer Analyzer) Analyse(byte[] bytes)
    {
        var analyzer = new TransportAnalyzer(new Discard());
        var before = ProcessCpu.Seconds(ProcessCpu.Self);
        for (var i = 0; i < bytes.Length; i += 65536) analyzer.Feed(bytes.AsSpan(i, Math.Min(65536, bytes.Length - i)));
        analyzer.Finish();
        return (ProcessCpu.Seconds(ProcessCpu.Self) - before, analyzer);
    }

    /// <summary>
    /// The bytes as a UDP input delivers them: 1316-byte datagrams (7 packets). With <paramref name="arrival"/>, each
    /// is stamped as the tap stamps a read (a clock read) and fed with the time it would arrive at the mux rate, so
    /// that the arrival check runs as on a paced live feed (the clock read's value only keeps the read from being
    /// optimised away).
    /// </summary>
    private static (double Cpu, TransportAnalyzer Analyzer) AnalyseDatagrams(byte[] bytes, bool arrival)
    {
        const int datagram = 7 * TsPacket.Size;
        var analyzer = new TransportAnalyzer(new Discard());
        var nanosecondsPerDatagram = datagram * 8 * 1e9 / MuxRate;
        long clock = 0;
        var before = ProcessCpu.Seconds(ProcessCpu.Self);
        for (int i = 0, n = 0; i < bytes.Length; i += datagram, n++)
        {
            var span = bytes.AsSpan(i, Math.Min(datagram, bytes.Length - i));
            if (!arrival)
            {
                analyzer.FeedDatagram(span);
                continue;
            }
            clock += Stopwatch.GetTimestamp() & 1;
            analyzer.FeedDatagram(span, 1_000_000_000L + (long)(n * nanosecondsPerDatagram) + clock);
        }
        analyzer.Finish();
        return (ProcessCpu.Seconds(ProcessCpu.Self) - before, analyzer);
    }

    private sealed class Discard : ITransportEventSink
    {
        public void OnTransportEvent(in TransportEvent transportEvent) { }
    }
}
