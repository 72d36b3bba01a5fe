using System.CommandLine;
using System.Globalization;
using Vigil.Tools.Bench;

namespace Vigil.Cli.Bench;

/// <summary><c>vigil bench transport</c>: the TR 101 290 analyser's CPU as a share of decoding the same multiplex (<see cref="TransportBench"/>).</summary>
internal static class TransportBenchCommand
{
    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { Description = "Length of the generated 40 Mb/s multiplex", DefaultValueFactory = _ => 30 };
        var repeat = new Option<int>("--repeat") { Description = "Runs of each side; the fastest counts", DefaultValueFactory = _ => 3 };
        var programs = new Option<int>("--programs") { Description = "720p H.264 programmes in the multiplex", DefaultValueFactory = _ => 4 };
        var command = new Command("transport", "MPEG-TS analyser (TR 101 290) vs ffmpeg decoding the same 40 Mb/s multiplex") { seconds, repeat, programs };
        command.SetAction(async (parse, cancel) =>
        {
            var repeats = Math.Max(1, parse.GetValue(repeat));
            TransportBenchResult r;
            try
            {
                r = await TransportBench.RunAsync(BenchCommand.WorkDir, Console.Error, cancel, Math.Max(2, parse.GetValue(seconds)), repeats,
                    Math.Clamp(parse.GetValue(programs), 1, 16));
            }
            catch (Tools.FfmpegException e)
            {
                await Console.Error.WriteLineAsync($"vigil bench: {e.Message}");
                return 1;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# vigil bench transport — {r.MediaSeconds:0.0} s, {r.BitsPerSecond / 1e6:0.0} Mb/s, {r.Programs} programmes, {r.Packets:N0} packets, best of {repeats}"));
            Console.WriteLine();
            Console.WriteLine("| run | CPU s | per packet | share of decoding |");
            Console.WriteLine("|---|---:|---:|---:|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| TR 101 290 analyser (64 KiB reads) | {r.AnalyserCpuSeconds:0.000} | {r.NanosecondsPerPacket:0} ns | {r.Ratio:0.00%} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| analyser, 1316-byte datagrams (UDP) | {r.DatagramCpuSeconds:0.000} | {r.DatagramCpuSeconds / r.Packets * 1e9:0} ns | {r.DatagramCpuSeconds / r.DecodeCpuSeconds:0.00%} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| live path: datagrams stamped, PCR accuracy from arrival times | {r.LiveCpuSeconds:0.000} | {r.LiveCpuSeconds / r.Packets * 1e9:0} ns | {r.LiveRatio:0.00%} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ffmpeg -threads 1 -map 0:v -map 0:a -f null - | {r.DecodeCpuSeconds:0.00} | | 100 % |"));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"arrival times add {r.ArrivalNanosecondsPerDatagram:0} ns per datagram (a clock read and the PCR check)"));
            Console.WriteLine();
            var failed = r.Failures.Count == 0 ? "no indicator failed on the clean multiplex" : "failed: " + string.Join(", ", r.Failures.Select(f => $"{f.Key} {f.Value}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"analyser throughput: {r.MegabitsPerCpuSecond:0} Mb/s per CPU-second; {failed}"));
            return 0;
        });
        return command;
    }
}
