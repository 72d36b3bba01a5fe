using System.CommandLine;
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
        var command = new Command("serve", "Monitor live streams over a REST API: SSE and webhook notifications, results, /metrics") { config, urls, data, local };
        command.SetAction(async (parse, cancel) =>
        {
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(urls) is { } u) overrides["Urls"] = u;
            if (parse.GetValue(data) is { } d) overrides["DataDir"] = d;
            if (parse.GetValue(local)) overrides["AllowLocalInputs"] = "true";
            try
            {
                var app = VigilServer.Build(parse.GetValue(config), overrides);
                await app.RunAsync();
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or FormatException)
            {
                await Console.Error.WriteLineAsync($"vigil serve: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
