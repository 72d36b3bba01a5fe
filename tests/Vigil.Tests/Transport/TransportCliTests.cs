using System.Text.Json;
using Vigil.Tests.Support;

namespace Vigil.Tests.Transport;

/// <summary><c>vigil analyze</c> on real captures: the multiplex per programme, a single programme as before, <c>--program</c>.</summary>
public sealed class TransportCliTests
{
    private static JsonElement Summary(VigilCli.Run run) => JsonDocument.Parse(run.StdoutLines[^1]).RootElement;

    private static List<JsonElement> Defects(VigilCli.Run run) =>
        run.StdoutLines[..^1].Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public async Task A_multiplex_reports_every_programme_on_its_own_clock()
    {
        var run = await VigilCli.RunAsync("analyze", RealCaptures.Test108, "--json");
        Assert.Equal(0, run.ExitCode);
        var summary = Summary(run);
        var programs = summary.GetProperty("programs").EnumerateArray().ToList();
        Assert.Equal([3401, 3402, 3403, 3404, 3405, 3406, 3411, 3410], programs.Select(p => p.GetProperty("program").GetInt32()));
        var tv = programs.Where(p => p.TryGetProperty("video", out _)).ToList();
        Assert.Equal(5, tv.Count);
        Assert.Equal(3, programs.Count(p => !p.TryGetProperty("video", out _) && p.TryGetProperty("audio", out _)));
        foreach (var p in programs)
        {
            // about a second of each, as captured: no programme is measured on another's clock, hours away
            Assert.InRange(p.GetProperty("duration").GetDouble(), 0.9, 2.0);
            Assert.True(p.TryGetProperty("service_name", out _));
        }
        Assert.Equal("Rai 1", programs[0].GetProperty("service_name").GetString());
        Assert.Equal(programs[0].GetProperty("duration").GetDouble(), summary.GetProperty("duration").GetDouble());
        Assert.True(tv.All(p => p.GetProperty("video").GetProperty("frames").GetInt32() >= 20));
        var defects = Defects(run);
        Assert.DoesNotContain(defects, d => d.GetProperty("details").TryGetProperty("timestamp_jump_s", out _));
        Assert.All(defects, d => Assert.True(d.TryGetProperty("program", out _)));
        Assert.Equal(defects.Count, summary.GetProperty("defects").GetInt32());
        Assert.Equal(defects.Count, programs.Sum(p => p.GetProperty("defects").GetInt32()));
    }

    [Fact]
    public async Task Program_chooses_programmes_in_the_order_given()
    {
        var run = await VigilCli.RunAsync("analyze", RealCaptures.Test108, "--json", "--program", "3410,3402", "--detectors", "video.black");
        Assert.Equal(0, run.ExitCode);
        var programs = Summary(run).GetProperty("programs").EnumerateArray().ToList();
        Assert.Equal([3410, 3402], programs.Select(p => p.GetProperty("program").GetInt32()));
        Assert.Equal("hevc", programs[0].GetProperty("video").GetProperty("codec").GetString());
        Assert.Equal("hevc", Summary(run).GetProperty("video").GetProperty("codec").GetString()); // the top level is the first chosen
    }

    [Fact]
    public async Task A_programme_the_input_does_not_have_fails_with_one_line()
    {
        var missing = await VigilCli.RunAsync("analyze", RealCaptures.Test108, "--json", "--program", "9999");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("programme 9999 is not in the input", Assert.Single(missing.StderrLines));
        Assert.Empty(missing.StdoutLines);
        var usage = await VigilCli.RunAsync("analyze", RealCaptures.Test108, "--json", "--program", "rai1");
        Assert.Equal(2, usage.ExitCode);
    }

    [Fact]
    public async Task A_single_programme_input_prints_what_it_always_did_plus_its_transport()
    {
        var run = await VigilCli.RunAsync("analyze", RealCaptures.Test072, "--json");
        Assert.Equal(0, run.ExitCode);
        var summary = Summary(run);
        Assert.False(summary.TryGetProperty("programs", out _));
        Assert.All(Defects(run), d => Assert.False(d.TryGetProperty("program", out _)));
        Assert.Equal(300, summary.GetProperty("video").GetProperty("frames").GetInt32());
        Assert.InRange(summary.GetProperty("duration").GetDouble(), 11.9, 12.1);
        var transport = summary.GetProperty("transport");
        Assert.Equal(0, transport.GetProperty("continuity_count_error").GetInt32()); // TSDuck: no discontinuity on any PID
        Assert.Equal(1, transport.GetProperty("pat_error").GetInt32());              // one PAT in 12 s
        // the demuxer's 293 corrupt flags (PES length mismatch) are no loss: no stream.discontinuity, no corrupt_packets
        Assert.DoesNotContain(Defects(run), d => d.GetProperty("kind").GetString() == "stream.discontinuity");
        Assert.False(summary.TryGetProperty("corrupt_packets", out _));
    }
}
