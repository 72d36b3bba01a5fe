using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Vigil.Tests.Service;
using Vigil.Tests.Service.Support;
using Vigil.Tests.Support;
using Vigil.Tools.Transport;

namespace Vigil.Tests.Transport;

/// <summary>
/// <c>vigil serve</c> on a multiplex (issue 15): a stream naming one programme, a stream of every programme each
/// as its own stream (<c>{id}.{program}</c>, one receive), and TR 101 290 counters per stream, programme and
/// indicator in <c>/metrics</c>. The multiplex is generated: two programmes, Alpha (101) and Bravo (102), with
/// Bravo's picture black from 2 to 5 s and three packets of Alpha's video lost at 3 s, so each fault's programme
/// is known by construction. Each file is read once (no reconnect within the test), so the counts are exact.
/// </summary>
[Collection(LiveServiceCollection.Name)]
public sealed class ProgrammeServiceTests
{
    private const int Alpha = 101, Bravo = 102;
    private static readonly string[] Detectors = ["video.black", "ts.continuity_count_error"];

    /// <summary>Two programmes at a constant mux rate (no indicator fails on the clean file): Alpha testsrc2, Bravo black from 2 to 5 s.</summary>
    private static Task<string> CleanMultiplex() => Multiplex(8, (2, 5), tablesVersion: 0);

    /// <summary>
    /// Alpha and Bravo for <paramref name="seconds"/>, Bravo black over <paramref name="black"/>; PAT, PMT and SDT
    /// carry <paramref name="tablesVersion"/>, so that a file appended to another is a change of the tables.
    /// </summary>
    private static Task<string> Multiplex(int seconds, (int From, int To) black, int tablesVersion) =>
        TestClips.Generate($"programmes-{seconds}s-black{black.From}-{black.To}-v{tablesVersion}.ts",
            $"-f lavfi -i testsrc2=size=320x240:rate=25:duration={seconds} -f lavfi -i testsrc2=size=320x240:rate=25:duration={seconds} " +
            $"-f lavfi -i sine=frequency=440:duration={seconds} -f lavfi -i sine=frequency=880:duration={seconds} " +
            $"-filter_complex \"[1:v]drawbox=enable='gte(t,{black.From})*lt(t,{black.To})':color=black:t=fill[bravo]\" " +
            "-map 0:v -map 2:a -map [bravo] -map 3:a -c:v libx264 -preset ultrafast -g 25 -b:v 300k -c:a aac -b:a 64k " +
            $"-program program_num={Alpha}:title=Alpha:st=0:st=1 -program program_num={Bravo}:title=Bravo:st=2:st=3 " +
            $"-muxrate 2000k -pcr_period 20 -tables_version {tablesVersion} -f mpegts");

    /// <summary>Alpha alone for 4 s (the same PIDs as in <see cref="Multiplex"/>), its tables at <paramref name="tablesVersion"/>.</summary>
    private static Task<string> AlphaAlone(int tablesVersion) => TestClips.Generate($"programmes-alpha-alone-v{tablesVersion}.ts",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -f lavfi -i sine=frequency=440:duration=4 " +
        "-map 0:v -map 1:a -c:v libx264 -preset ultrafast -g 25 -b:v 300k -c:a aac -b:a 64k " +
        $"-program program_num={Alpha}:title=Alpha:st=0:st=1 -muxrate 2000k -pcr_period 20 -tables_version {tablesVersion} -f mpegts");

    private static async Task<string> Concatenated(string name, params string[] parts)
    {
        var path = Path.Combine(TestClips.WorkFolder, name);
        await using var output = File.Create(path);
        foreach (var part in parts)
        {
            await using var input = File.OpenRead(part);
            await input.CopyToAsync(output);
        }
        return path;
    }

    /// <summary>The multiplex with three packets of Alpha's video (the first video PID) lost at 3 s.</summary>
    private static async Task<(string Path, int AlphaVideoPid)> MultiplexAsync()
    {
        var faults = new TsFaults(await File.ReadAllBytesAsync(await CleanMultiplex()));
        faults.Lose(faults.VideoPid, 3.0, 3);
        var path = Path.Combine(TestClips.WorkFolder, "programmes-alpha-loss.ts");
        await File.WriteAllBytesAsync(path, faults.Build());
        return (path, faults.VideoPid);
    }

    /// <summary>A service that reads a local file once: its reconnect waits far longer than any test.</summary>
    private static Task<ServiceUnderTest> OnePassAsync() => ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?>
    {
        ["AllowLocalInputs"] = "true",
        ["ReconnectMinSeconds"] = "600",
        ["ReconnectMaxSeconds"] = "600",
    });

    /// <summary>Waits until the stream's one pass over its file is analysed to the end (its pipeline says the input ended).</summary>
    private static Task InputEndedAsync(ServiceUnderTest service, string id) =>
        Net.WaitUntilAsync(async () => (await service.GetJsonAsync($"/api/streams/{id}"))["status"]!["last_error"]?.GetValue<string>() == "input ended",
            90, $"{id} to read its input to the end");

    /// <summary>The stream's defects (ended), without the stall its ended file raises afterwards.</summary>
    private static async Task<List<JsonNode>> DefectsAsync(ServiceUnderTest service, string id) =>
        (await service.EventsAsync(id)).Where(e => e.Type() == "defect" && e.Kind() != "stream.stall").ToList();

    /// <summary>The value of one <c>vigil_transport_errors_total</c> line; null when the page has no such line.</summary>
    private static long? TransportErrors(string metrics, string stream, int program, string indicator) =>
        Regex.Match(metrics, $@"^vigil_transport_errors_total\{{stream=""{Regex.Escape(stream)}"",name=""[^""]*"",program=""{program}"",indicator=""{indicator}""\}} (\d+)$",
            RegexOptions.Multiline) is { Success: true } m ? long.Parse(m.Groups[1].Value) : null;

    private static IEnumerable<int> ProgrammesCounted(string metrics, string stream) =>
        Regex.Matches(metrics, $@"^vigil_transport_errors_total\{{stream=""{Regex.Escape(stream)}"",name=""[^""]*"",program=""(\d+)""", RegexOptions.Multiline)
            .Select(m => int.Parse(m.Groups[1].Value)).Distinct().Order();

    [Fact]
    public async Task Every_programme_is_a_stream_of_its_own_with_its_own_defects_status_and_counters()
    {
        var (path, alphaVideo) = await MultiplexAsync();
        await using var service = await OnePassAsync();
        await service.AddStreamAsync(new { id = "mux", url = path, programs = "all", detectors = Detectors });
        await InputEndedAsync(service, "mux");
        await InputEndedAsync(service, "mux.101");
        await InputEndedAsync(service, "mux.102");

        // GET /api/streams: the multiplex stream, then one stream per programme, each with its service, codecs and state
        var list = (await service.GetJsonAsync("/api/streams")).AsArray();
        Assert.Equal(["mux", "mux.101", "mux.102"], list.Select(s => s!["id"]!.GetValue<string>()));
        Assert.Equal("all", list[0]!["programs"]!.GetValue<string>());
        Assert.Equal(["mux.101", "mux.102"], list[0]!["status"]!["program_streams"]!.AsArray().Select(s => s!.GetValue<string>()));
        foreach (var (entry, program, service_name) in new[] { (list[1]!, Alpha, "Alpha"), (list[2]!, Bravo, "Bravo") })
        {
            Assert.Equal(("mux", program), (entry["parent"]!.GetValue<string>(), entry["program"]!.GetValue<int>()));
            var media = entry["status"]!["media"]!;
            Assert.Equal((program, service_name, "h264", "aac"), (media["program"]!.GetValue<int>(), media["service_name"]!.GetValue<string>(),
                media["video_codec"]!.GetValue<string>(), media["audio_codec"]!.GetValue<string>()));
            Assert.Equal(1, entry["status"]!["connections"]!.GetValue<int>());
            Assert.InRange(entry["status"]!["frames_analysed"]!.GetValue<int>() + entry["status"]!["frames_shed"]!.GetValue<int>(), 190, 200); // 8 s at 25 fps each
        }

        // each fault on its own programme's stream, tagged with it, and on no other
        var alpha = await DefectsAsync(service, "mux.101");
        var bravo = await DefectsAsync(service, "mux.102");
        var loss = Assert.Single(alpha);
        Assert.Equal(("ts.continuity_count_error", Alpha, alphaVideo), (loss.Kind(), loss["program"]!.GetValue<int>(), loss["details"]!["pid"]!.GetValue<int>()));
        var black = Assert.Single(bravo);
        Assert.Equal(("video.black", Bravo), (black.Kind(), black["program"]!.GetValue<int>()));
        Assert.InRange(black["end"]!.GetValue<double>() - black["start"]!.GetValue<double>(), 2.5, 3.5); // 2 to 5 s
        Assert.Empty(await DefectsAsync(service, "mux")); // the multiplex stream's events are its programmes'
        Assert.All((await service.EventsAsync()).Where(e => e.Kind() != "stream.stall"), e => Assert.NotNull(e["program"]));

        // the counters: per programme stream, its programme and the multiplex as a whole, exactly the failures there were
        var metrics = await service.Http.GetStringAsync("/metrics");
        Assert.Equal(1, TransportErrors(metrics, "mux.101", Alpha, "continuity_count_error"));
        Assert.Equal(0, TransportErrors(metrics, "mux.101", 0, "continuity_count_error"));
        Assert.Equal(0, TransportErrors(metrics, "mux.102", Bravo, "continuity_count_error"));
        Assert.Equal(0, TransportErrors(metrics, "mux.102", 0, "pat_error"));
        Assert.Equal([0, Alpha], ProgrammesCounted(metrics, "mux.101"));
        Assert.Equal([0, Bravo], ProgrammesCounted(metrics, "mux.102"));
        Assert.Matches(@"vigil_stream_defects_total\{stream=""mux.102"",name=""[^""]*"",kind=""video.black""\} 1\n", metrics);
        Assert.DoesNotContain(path, metrics); // stream URLs never appear in labels

        // the programme stream's own resources
        using var events = await service.SendAsync(HttpMethod.Get, "/api/streams/mux.102/events");
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        using var thumbnail = await service.SendAsync(HttpMethod.Get, "/api/streams/mux.101/thumbnail");
        Assert.NotEqual(HttpStatusCode.NotFound, thumbnail.StatusCode);
        using var missing = await service.SendAsync(HttpMethod.Get, "/api/streams/mux.103");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_stream_naming_a_programme_reports_that_programme_alone()
    {
        var (path, alphaVideo) = await MultiplexAsync();
        await using var service = await OnePassAsync();
        await service.AddStreamAsync(new { id = "alpha", url = path, program = Alpha, detectors = Detectors });
        await service.AddStreamAsync(new { id = "bravo", url = path, program = Bravo, detectors = Detectors });
        await InputEndedAsync(service, "alpha");
        await InputEndedAsync(service, "bravo");

        var bravo = await service.GetJsonAsync("/api/streams/bravo");
        Assert.Equal(Bravo, bravo["program"]!.GetValue<int>());
        Assert.Equal("Bravo", bravo["status"]!["media"]!["service_name"]!.GetValue<string>());
        Assert.Null(bravo["programs"]);
        Assert.Null(bravo["status"]!["program_streams"]);
        Assert.Equal(["alpha", "bravo"], (await service.GetJsonAsync("/api/streams")).AsArray().Select(s => s!["id"]!.GetValue<string>()));

        var loss = Assert.Single(await DefectsAsync(service, "alpha"));
        Assert.Equal(("ts.continuity_count_error", Alpha, alphaVideo), (loss.Kind(), loss["program"]!.GetValue<int>(), loss["details"]!["pid"]!.GetValue<int>()));
        var black = Assert.Single(await DefectsAsync(service, "bravo")); // Alpha's lost packets are not Bravo's
        Assert.Equal(("video.black", Bravo), (black.Kind(), black["program"]!.GetValue<int>()));

        var metrics = await service.Http.GetStringAsync("/metrics");
        Assert.Equal(1, TransportErrors(metrics, "alpha", Alpha, "continuity_count_error"));
        Assert.Equal(0, TransportErrors(metrics, "bravo", Bravo, "continuity_count_error"));
        Assert.Equal([0, Alpha], ProgrammesCounted(metrics, "alpha"));
        Assert.Equal([0, Bravo], ProgrammesCounted(metrics, "bravo")); // the multiplex as a whole, and its own programme only
    }

    [Fact]
    public async Task Trap_a_single_programme_input_is_one_stream_as_before_with_its_counters()
    {
        var faults = new TsFaults(await File.ReadAllBytesAsync(await TransportClipTests.Clean()));
        faults.Lose(faults.VideoPid, 3.0, 3);
        var path = Path.Combine(TestClips.WorkFolder, "programmes-single-loss.ts");
        await File.WriteAllBytesAsync(path, faults.Build());
        await using var service = await OnePassAsync();
        await service.AddStreamAsync(new { id = "one", url = path, detectors = Detectors });
        await InputEndedAsync(service, "one");

        var list = (await service.GetJsonAsync("/api/streams")).AsArray();
        var one = Assert.Single(list)!;
        Assert.Null(one["program"]);
        Assert.Null(one["programs"]);
        Assert.Null(one["status"]!["program_streams"]);
        Assert.Null(one["status"]!["media"]!["program"]);
        var loss = Assert.Single(await DefectsAsync(service, "one"));
        Assert.Equal(faults.VideoPid, loss["details"]!["pid"]!.GetValue<int>());
        Assert.Null(loss["program"]); // absent for a single-programme input (EVENTS.md)

        var metrics = await service.Http.GetStringAsync("/metrics");
        var programmes = ProgrammesCounted(metrics, "one").ToList();
        Assert.Equal(2, programmes.Count); // the multiplex as a whole (0) and its one programme
        Assert.Equal(0, TransportErrors(metrics, "one", 0, "continuity_count_error"));
        Assert.Equal(1, TransportErrors(metrics, "one", programmes[1], "continuity_count_error"));
    }

    [Fact]
    public async Task A_programme_that_leaves_the_multiplex_goes_quiet_and_the_others_go_on()
    {
        // 4 s of Alpha and Bravo, then a PAT (version 1) of Alpha alone for 4 s more
        var path = await Concatenated("programmes-bravo-leaves.ts", await Multiplex(4, (1, 2), tablesVersion: 0), await AlphaAlone(tablesVersion: 1));
        await using var service = await OnePassAsync();
        await service.AddStreamAsync(new { id = "mux", url = path, programs = "all", detectors = Detectors });
        await InputEndedAsync(service, "mux");
        await InputEndedAsync(service, "mux.101");
        await InputEndedAsync(service, "mux.102");

        var list = (await service.GetJsonAsync("/api/streams")).AsArray();
        Assert.Equal(["mux", "mux.101", "mux.102"], list.Select(s => s!["id"]!.GetValue<string>()));
        int Frames(JsonNode s) => s["status"]!["frames_analysed"]!.GetValue<int>() + s["status"]!["frames_shed"]!.GetValue<int>();
        Assert.InRange(Frames(list[1]!), 190, 200); // Alpha: all 8 s
        Assert.InRange(Frames(list[2]!), 90, 100);  // Bravo: its 4 s
        Assert.Equal(1, list[0]!["status"]!["connections"]!.GetValue<int>());
        var bravo = await DefectsAsync(service, "mux.102");
        Assert.Equal("video.black", Assert.Single(bravo, d => d.Kind() == "video.black").Kind());
        // the splice breaks the continuity of the multiplex's own PIDs (PAT 0, SDT 17), which every programme stream
        // reports, and of Alpha's, which Bravo's does not
        var splice = bravo.Where(d => d.Kind() != "video.black").ToList();
        Assert.Equal([0, 17], splice.Select(d => d["details"]!["pid"]!.GetValue<int>()).Order());
        Assert.All(splice, d => Assert.Equal(("ts.continuity_count_error", null), (d.Kind(), d["program"])));
    }

    /// <summary>
    /// A programme that starts later (a new PAT lists it) on a live input: the receive reconnects once to decode it,
    /// and it becomes a stream of its own with its own defects. The input goes over UDP at its mux rate, as a live
    /// multiplex arrives: Alpha alone (PAT version 0, repeated until the service decodes it), then Alpha and Bravo
    /// (version 1) with Bravo black from 4 to 8 s.
    /// </summary>
    [Fact]
    public async Task A_programme_that_starts_later_on_a_live_input_becomes_a_stream_of_its_own()
    {
        var alone = await File.ReadAllBytesAsync(await AlphaAlone(tablesVersion: 0));
        var both = await File.ReadAllBytesAsync(await Multiplex(10, (4, 8), tablesVersion: 1));
        await using var service = await ServiceUnderTest.StartAsync();
        var port = Net.FreeUdpPort();
        await service.AddStreamAsync(new { id = "mux", url = $"udp://127.0.0.1:{port}", programs = "all", detectors = Detectors });
        using var stop = new CancellationTokenSource();
        var alphaDecoded = new TaskCompletionSource();
        var sending = Task.Run(async () =>
        {
            using var udp = new System.Net.Sockets.UdpClient(); // not connected: a receiver that reconnects is no error here
            for (var i = 0; i < 20 && !alphaDecoded.Task.IsCompleted; i++) await SendPacedAsync(udp, port, alone, 2_000_000, stop.Token);
            await SendPacedAsync(udp, port, both, 2_000_000, stop.Token);
        });
        try
        {
            await Net.WaitUntilAsync(async () => (await TryGetAsync(service, "/api/streams/mux.101"))?["status"]?["frames_analysed"]?.GetValue<int>() > 0, 40,
                "Alpha to be analysed");
            alphaDecoded.SetResult();
            Assert.Equal(["mux.101"], (await service.GetJsonAsync("/api/streams/mux"))["status"]!["program_streams"]!.AsArray().Select(s => s!.GetValue<string>()));
            // its status shows the black open (GET /api/streams: each programme's open defects)
            await Net.WaitUntilAsync(async () => (await TryGetAsync(service, "/api/streams/mux.102"))?["status"]?["open_defects"]?["video.black"]?.GetValue<int>() == 1, 40,
                "Bravo, started later, to be black as a stream of its own");
        }
        finally
        {
            await stop.CancelAsync();
            await sending;
        }
        var mux = await service.GetJsonAsync("/api/streams/mux");
        Assert.Equal(["mux.101", "mux.102"], mux["status"]!["program_streams"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.True(mux["status"]!["connections"]!.GetValue<int>() >= 2); // once more for Bravo
        Assert.Equal("Bravo", (await service.GetJsonAsync("/api/streams/mux.102"))["status"]!["media"]!["service_name"]!.GetValue<string>());
        Assert.Contains(await service.EventsAsync("mux.102"), e => e.Type() == "defect_start" && e.Kind() == "video.black" && e["program"]!.GetValue<int>() == Bravo);
        Assert.DoesNotContain(await service.EventsAsync("mux.101"), e => e.Kind() == "video.black"); // Alpha is never black
    }

    /// <summary>The resource at <paramref name="path"/>; null while there is none (404).</summary>
    private static async Task<JsonNode?> TryGetAsync(ServiceUnderTest service, string path)
    {
        using var response = await service.SendAsync(HttpMethod.Get, path);
        return response.StatusCode == HttpStatusCode.NotFound ? null : JsonNode.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Sends transport stream bytes in 7-packet datagrams at <paramref name="bitsPerSecond"/>, once (until <paramref name="stop"/>).</summary>
    private static async Task SendPacedAsync(System.Net.Sockets.UdpClient udp, int port, byte[] bytes, int bitsPerSecond, CancellationToken stop)
    {
        var to = new IPEndPoint(IPAddress.Loopback, port);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            for (var at = 0; at < bytes.Length && !stop.IsCancellationRequested; at += 1316)
            {
                var due = TimeSpan.FromSeconds(at * 8.0 / bitsPerSecond) - clock.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due, stop);
                await udp.SendAsync(bytes.AsMemory(at, Math.Min(1316, bytes.Length - at)), to, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [Fact]
    public async Task Programme_choices_are_validated_stored_and_changed()
    {
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?> { ["AllowLocalInputs"] = "true" });
        var url = "/nonexistent/programmes.ts";
        foreach (var (body, why) in new (object, string)[]
        {
            (new { url, program = 70000 }, "a service id is at most 65535"),
            (new { url, program = -1 }, "negative"),
            (new { url, program = 3401, programs = "all" }, "both"),
            (new { url, programs = "some" }, "neither all nor a list"),
            (new { url, programs = new[] { 3401, 3401 } }, "twice"),
            (new { url, programs = new[] { 0 } }, "not a service id"),
            (new { url, programs = 3401 }, "a number, not a list"),
        })
        {
            using var response = await service.SendAsync(HttpMethod.Post, "/api/streams", body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode}");
        }

        await service.AddStreamAsync(new { id = "some", url, programs = new[] { 3410, 3402 }, paused = true });
        Assert.Equal([3410, 3402], (await service.GetJsonAsync("/api/streams/some"))["programs"]!.AsArray().Select(p => p!.GetValue<int>()));
        using (var conflict = await service.SendAsync(HttpMethod.Patch, "/api/streams/some", new { program = 3401 }))
            Assert.Equal(HttpStatusCode.BadRequest, conflict.StatusCode); // programs still set
        using (var change = await service.SendAsync(HttpMethod.Patch, "/api/streams/some", new { programs = Array.Empty<int>(), program = 3401 }))
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        var changed = await service.GetJsonAsync("/api/streams/some");
        Assert.Equal(3401, changed["program"]!.GetValue<int>());
        Assert.Null(changed["programs"]);

        await service.RestartAsync(); // from the store
        Assert.Equal(3401, (await service.GetJsonAsync("/api/streams/some"))["program"]!.GetValue<int>());
        using (var back = await service.SendAsync(HttpMethod.Patch, "/api/streams/some", new { program = 0, programs = "all" }))
            Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        var all = await service.GetJsonAsync("/api/streams/some");
        Assert.Equal("all", all["programs"]!.GetValue<string>());
        Assert.Null(all["program"]);

        var openApi = await service.Anonymous.GetStringAsync("/openapi/v1.json");
        foreach (var field in new[] { "\"program\"", "\"programs\"", "\"parent\"", "\"program_streams\"", "\"service_name\"" })
            Assert.Contains(field, openApi);
    }
}
