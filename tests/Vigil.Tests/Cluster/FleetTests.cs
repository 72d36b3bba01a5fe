using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Vigil.Tests.Cluster.Support;
using Vigil.Tests.Service.Support;
using Xunit.Abstractions;

namespace Vigil.Tests.Cluster;

/// <summary>
/// A real fleet on loopback: PostgreSQL (private server), `vigil serve` nodes as child processes, six live
/// UDP streams broadcast on 127.255.255.255 (so every node that opens one gets its own copy), an SSE client,
/// a webhook receiver and one results folder shared by every node. Defects are known by construction (black
/// every 10 s on the picture, silence on the sound), so events keep flowing through every phase.
/// </summary>
[Collection("postgres")]
public sealed class FleetTests(PostgresFixture pg, ITestOutputHelper output)
{
    private const string Video = "video";
    private const string Audio = "audio+av.sync";

    [Fact]
    public async Task Fleet_ThreeNodesSixStreams_PlacesOnceFailsOverRebalancesStopsAndLosesNoEvent()
    {
        var db = pg.NewDatabase("fleet");
        var pattern = new FfmpegLive.Pattern(10, Black: (2, 5), Silence: (6, 9));
        var ports = Enumerable.Range(0, 6).Select(_ => Net.FreeUdpPort()).ToList();
        var senders = ports.Select(p => FfmpegLive.UdpBroadcast(p, pattern)).ToList();
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        var nodes = new List<FleetNode>();
        // every node writes its groups' results into one folder (one bucket), in 2 s segments
        var results = Net.TempDir("fleet-results");
        var settings = new Dictionary<string, string> { ["STORAGE__FOLDER"] = results, ["SEGMENTSECONDS"] = "2" };
        try
        {
            var first = FleetNode.Start(db, Video, null, settings);
            nodes.Add(first);
            await first.WaitUpAsync();
            nodes.Add(FleetNode.Start(db, Audio, first.ClusterPort, settings));
            nodes.Add(FleetNode.Start(db, Video, first.ClusterPort, settings));
            await Task.WhenAll(nodes.Select(n => n.WaitUpAsync()));
            var audio = nodes[1];

            using (var hook = await audio.Http.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url }))
                Assert.Equal(System.Net.HttpStatusCode.Created, hook.StatusCode);
            await using var sse = SseListener.Open(audio.Http, "/api/events/live?after=0");
            var streams = new List<string>();
            for (var i = 0; i < ports.Count; i++) // added through different nodes: every node serves the same API
                streams.Add(await nodes[i % 3].AddStreamAsync(new
                {
                    id = $"cam-{i}", url = $"udp://127.0.0.1:{ports[i]}?reuse=1", detectors = new[] { "video.black", "audio.silence" },
                }));

            // 1. each (stream, group) runs exactly once, on a node of its role
            var expected = streams.SelectMany(s => new[] { (s, Video), (s, Audio) }).ToHashSet();
            await WaitPlacementAsync(nodes, expected, 60, "12 pipelines placed");
            var video = nodes.Where(n => n.Role == Video).ToList();
            await sse.WaitForAsync(e => e.Type == "defect" && e.Data.Kind() == "video.black", 40, "a black picture reported");
            await sse.WaitForAsync(e => e.Type == "defect" && e.Data.Kind() == "audio.silence", 40, "silence reported");

            // 2. kill -9 the video node with more pipelines: its share runs again on the other video node
            var placed = await SnapshotAsync(nodes);
            var victim = video.OrderByDescending(n => placed[n].Count).First();
            var survivor = video.Single(n => n != victim);
            var moved = placed[victim].Select(p => (p.Stream, p.Group)).ToList();
            Assert.NotEmpty(moved);
            var clock = Stopwatch.StartNew();
            victim.KillHard();
            nodes.Remove(victim);
            await Net.WaitUntilAsync(async () =>
            {
                var local = await survivor.LocalAsync();
                return moved.All(m => local.Any(l => l.Stream == m.Stream && l.Group == m.Group && l.State == "running"));
            }, 60, "the killed node's pipelines to run on the surviving video node");
            var failover = clock.Elapsed.TotalSeconds;
            output.WriteLine($"kill -9 of {victim.Name}: its {moved.Count} pipelines running on {survivor.Name} after {failover:0.0} s");
            Assert.True(failover <= 15, $"failover took {failover:0.0} s (limit 15 s)");
            await WaitPlacementAsync(nodes, expected, 30, "12 pipelines after the failover");

            // 3. a fourth node joins: some pipelines move to it, none runs twice at any moment
            var joiner = FleetNode.Start(db, Video, nodes[0].ClusterPort, settings);
            nodes.Add(joiner);
            await joiner.WaitUpAsync();
            await Net.WaitUntilAsync(async () =>
            {
                var snapshot = await SnapshotAsync(nodes);
                AssertNoDuplicates(snapshot);
                return snapshot[joiner].Count > 0;
            }, 60, "pipelines to move to the joining node");
            await WaitPlacementAsync(nodes, expected, 40, "12 pipelines after the rebalance");
            var metrics = await nodes[0].Http.GetStringAsync("/metrics");
            Assert.Matches(@"vigil_fleet_rebalances_total [1-9]", metrics);
            Assert.Matches(@"vigil_fleet_failovers_total [1-9]", metrics);

            // 4. a stream removed: stopped on its node within 2 s
            var removed = streams[0];
            using (var delete = await audio.Http.DeleteAsync($"/api/streams/{removed}"))
                Assert.Equal(System.Net.HttpStatusCode.NoContent, delete.StatusCode);
            clock.Restart(); // from the removal being committed (the API answered)
            await Net.WaitUntilAsync(async () => (await SnapshotAsync(nodes)).Values.All(l => l.All(p => p.Stream != removed)), 20, "the removed stream to stop");
            var stop = clock.Elapsed.TotalSeconds;
            output.WriteLine($"stream removed: stopped on every node after {stop:0.00} s");
            Assert.True(stop <= 2, $"stopping took {stop:0.00} s (limit 2 s)");

            // 5. no event lost or duplicated: PostgreSQL, SSE and the webhook receiver agree
            foreach (var s in streams.Skip(1))
                using (await audio.Http.DeleteAsync($"/api/streams/{s}")) { } // stopping closes what is open
            await Net.WaitUntilAsync(async () => (await SnapshotAsync(nodes)).Values.All(l => l.Count == 0), 30, "every pipeline to stop");
            await Net.WaitUntilAsync(async () => (await audio.Http.GetFromJsonAsync<JsonNode>("/healthz"))!["pending_webhooks"]!.GetValue<long>() == 0,
                40, "the webhook outbox to drain");
            var stored = (await audio.Http.GetStringAsync("/api/events?limit=10000")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonNode.Parse(l)!).ToList();
            var ids = stored.Select(e => e.Id()).ToList();
            Assert.Equal(Enumerable.Range(1, ids.Count).Select(i => (long)i), ids); // committed in id order, no gap
            await Net.WaitUntilAsync(() => sse.Events.Count >= ids.Count, 20, "SSE to catch up");
            Assert.Equal(ids, sse.Events.Select(e => e.Id).ToList());
            var delivered = receiver.Received.Select(r => r.Id).ToList();
            Assert.Equal(ids, delivered.Order().ToList()); // each once
            Assert.All(stored, e => Assert.False(string.IsNullOrEmpty(e["node"]?.GetValue<string>())));
            Assert.Contains(stored, e => e["node"]!.GetValue<string>() == victim.Name);
            foreach (var byStream in stored.GroupBy(e => e["stream_id"]!.GetValue<string>()))
                foreach (var defect in byStream.GroupBy(e => (e.Kind(), e["start"]!.GetValue<double>())))
                {
                    var lines = string.Join('\n', defect.Select(e => e.ToJsonString()));
                    Assert.True(defect.Count(e => e.Type() == "defect_start") == 1, $"{byStream.Key}: not one defect_start:\n{lines}");
                    Assert.True(defect.Count(e => e.Type() == "defect") == 1, $"{byStream.Key}: not one defect:\n{lines}");
                }
            output.WriteLine($"{ids.Count} events: PostgreSQL, SSE and webhook agree");

            // 6. results per detector group: STREAM/GROUP/DATE/TIME.json, each with its own group's events only
            var kindsByGroup = new Dictionary<string, List<string>> { [Video] = [], [Audio] = [] };
            foreach (var s in streams)
                foreach (var group in kindsByGroup.Keys)
                {
                    var folder = Path.Combine(results, s, group);
                    Assert.True(Directory.Exists(folder), $"no results of {s}/{group}");
                    var objects = Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories).Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToList();
                    Assert.All(objects, o => Assert.Equal(group, o["group"]!.GetValue<string>()));
                    kindsByGroup[group].AddRange(objects.SelectMany(o => o["events"]!.AsArray()).Select(e => e!.Kind()));
                }
            Assert.Contains("video.black", kindsByGroup[Video]);
            Assert.DoesNotContain(kindsByGroup[Video], k => k.StartsWith("audio.", StringComparison.Ordinal)); // the lead group also has stream.stall
            Assert.Contains("audio.silence", kindsByGroup[Audio]);
            Assert.All(kindsByGroup[Audio], k => Assert.True(k.StartsWith("audio.", StringComparison.Ordinal) || k.StartsWith("av.", StringComparison.Ordinal), k));
        }
        catch
        {
            foreach (var n in nodes) output.WriteLine($"--- {n.Name} ({n.Role}):\n{n.Tail}");
            throw;
        }
        finally
        {
            foreach (var n in nodes) await n.DisposeAsync();
            foreach (var s in senders) await s.DisposeAsync();
            Directory.Delete(results, recursive: true);
        }
    }

    [Fact]
    public async Task Fleet_Sigterm_HandsPipelinesOverBeforeExit()
    {
        var db = pg.NewDatabase("leave");
        var port = Net.FreeUdpPort();
        await using var sender = FfmpegLive.UdpBroadcast(port, new FfmpegLive.Pattern(10, Black: (2, 5)));
        var first = FleetNode.Start(db, Video, null);
        await using var _ = first;
        await first.WaitUpAsync();
        var second = FleetNode.Start(db, Video, first.ClusterPort);
        await using var __ = second;
        await second.WaitUpAsync();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
            ids.Add(await first.AddStreamAsync(new { id = $"leave-{i}", url = $"udp://127.0.0.1:{port}?reuse=1", detectors = new[] { "video.black" } }));
        var nodes = new List<FleetNode> { first, second };
        await WaitPlacementAsync(nodes, ids.Select(s => (s, Video)).ToHashSet(), 60, "4 pipelines placed");
        var leaving = (await second.LocalAsync()).Count > 0 ? second : first;
        var staying = leaving == first ? second : first;
        var exit = await leaving.TerminateAsync();
        Assert.True(exit == 0, $"exit code {exit} after SIGTERM:\n{leaving.Tail}");
        await Net.WaitUntilAsync(async () => (await staying.LocalAsync()).Count(p => p.State == "running") == ids.Count, 30,
            "every pipeline to run on the remaining node");
        var events = (await staying.Http.GetStringAsync("/api/events?limit=10000")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonNode.Parse(l)!).ToList();
        foreach (var defect in events.GroupBy(e => (e["stream_id"]!.GetValue<string>(), e.Kind(), e["start"]!.GetValue<double>())))
            Assert.True(defect.Count(e => e.Type() == "defect_start") <= 1, $"{defect.Key} reported twice");
    }

    private static async Task WaitPlacementAsync(List<FleetNode> nodes, HashSet<(string, string)> expected, double seconds, string what) =>
        await Net.WaitUntilAsync(async () =>
        {
            var snapshot = await SnapshotAsync(nodes);
            AssertNoDuplicates(snapshot);
            foreach (var (node, list) in snapshot)
                Assert.All(list, p => Assert.Equal(node.Role, p.Group)); // on the right role
            var all = snapshot.Values.SelectMany(l => l).ToList();
            return all.Count == expected.Count && all.All(p => p.State == "running") && all.Select(p => (p.Stream, p.Group)).ToHashSet().SetEquals(expected);
        }, seconds, what);

    /// <summary>Every node's pipelines, asked of all nodes at once (a move takes far longer than the requests are apart).</summary>
    private static async Task<Dictionary<FleetNode, List<(string Stream, string Group, string State)>>> SnapshotAsync(List<FleetNode> nodes)
    {
        var lists = await Task.WhenAll(nodes.Select(n => n.LocalAsync()));
        return nodes.Zip(lists).ToDictionary(x => x.First, x => x.Second);
    }

    private static void AssertNoDuplicates(Dictionary<FleetNode, List<(string Stream, string Group, string State)>> snapshot)
    {
        var twice = snapshot.Values.SelectMany(l => l).GroupBy(p => (p.Stream, p.Group)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"running on two nodes at once: {string.Join(", ", twice)}");
    }
}
