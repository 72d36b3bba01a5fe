using System.CommandLine;
using Vigil.Cluster;
using Vigil.Service;

namespace Vigil.Cli;

/// <summary><c>vigil serve</c>: the 24/7 service (REST API, live pipelines, SSE, webhooks, results, metrics).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config", "-c") { Description = "JSON configuration file (keys as ServiceOptions: DataDir, ApiKeys, Storage:S3:Bucket, …); VIGIL_* environment variables override it" };
        var urls = new Option<string?>("--urls") { Description = "Addresses to listen on, ';'-separated (default http://127.0.0.1:8080)" };
        var data = new Option<string?>("--data") { Description = "Data folder: SQLite database, snapshots, local results (default ./vigil-data)" };
        var local = new Option<bool>("--allow-local-inputs") { Description = "Let the API add files, devices and local pseudo-protocols (trusted hosts only)" };
        var postgres = new Option<string?>("--cluster-postgres") { Description = "Run as a fleet node: PostgreSQL connection string of the fleet's shared store (or VIGIL_CLUSTER__POSTGRES)" };
        var role = new Option<string?>("--role") { Description = "Fleet node: its detector subset, which is its cluster role (video, audio+av.sync; default all)" };
        var seeds = new Option<string[]>("--seed") { Description = "Fleet node: a seed node host:port (repeat; the first node lists itself)", AllowMultipleArgumentsPerToken = true };
        var clusterPort = new Option<int?>("--cluster-port") { Description = "Fleet node: port for cluster traffic (default 4053)" };
        var clusterHost = new Option<string?>("--cluster-host") { Description = "Fleet node: address for cluster traffic (default 127.0.0.1)" };
        var node = new Option<string?>("--node-name") { Description = "Fleet node: name events carry as `node` (default host:port)" };
        var command = new Command("serve", "Monitor live streams over a REST API: SSE and webhook notifications, results, /metrics; alone or as a fleet node")
        {
            config, urls, data, local, postgres, role, seeds, clusterPort, clusterHost, node,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(urls) is { } u) overrides["Urls"] = u;
            if (parse.GetValue(data) is { } d) overrides["DataDir"] = d;
            if (parse.GetValue(local)) overrides["AllowLocalInputs"] = "true";
            if (parse.GetValue(postgres) is { } pg) overrides["Cluster:Postgres"] = pg;
            if (parse.GetValue(role) is { } r) overrides["Cluster:Role"] = r;
            if (parse.GetValue(clusterPort) is { } cp) overrides["Cluster:Port"] = cp.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(clusterHost) is { } ch) overrides["Cluster:Host"] = ch;
            if (parse.GetValue(node) is { } n) overrides["Cluster:Name"] = n;
            var seedList = parse.GetValue(seeds) ?? [];
            for (var i = 0; i < seedList.Length; i++) overrides[$"Cluster:Seeds:{i}"] = seedList[i];
            try
            {
                var fleet = FleetMode.Configured(parse.GetValue(config), overrides);
                var app = fleet is null ? VigilServer.Build(parse.GetValue(config), overrides) : FleetMode.Build(parse.GetValue(config), overrides, fleet);
                await app.RunAsync();
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or FormatException or ArgumentException or Npgsql.NpgsqlException)
            {
                await Console.Error.WriteLineAsync($"vigil serve: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
