using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Service.Api;
using Vigil.Service.Live;
using Vigil.Service.Notify;
using Vigil.Service.Ops;
using Vigil.Service.Segments;
using Vigil.Service.Store;

namespace Vigil.Service;

/// <summary>
/// Builds the <c>vigil serve</c> web application: configuration (JSON file, then <c>VIGIL_</c>
/// environment variables, then explicit overrides), the store, the pipelines, notifications, results
/// and the HTTP API. Hosted services stop in reverse order, so the pipelines close their defects
/// first, then the last results segment is written, then the webhook outbox stops.
/// </summary>
public static class VigilServer
{
    public static WebApplication Build(string? configFile = null, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        if (configFile is not null) builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables("VIGIL_");
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        var options = new ServiceOptions();
        builder.Configuration.Bind(options);
        options.DataDir = Path.GetFullPath(options.DataDir);
        Directory.CreateDirectory(options.DataDir);
        var generatedKey = false;
        if (options.ApiKeys.Count == 0)
        {
            generatedKey = !File.Exists(Path.Combine(options.DataDir, "api-key"));
            options.ApiKeys.Add(ApiKeys.LoadOrCreate(options.DataDir));
        }

        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1 << 20);
        builder.Logging.ClearProviders();
        if (options.JsonLogs)
            builder.Logging.AddJsonConsole(o => { o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.UseUtcTimestamp = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        if (builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(new ApiKeys(options.ApiKeys));
        services.AddSingleton<InputPolicy>();
        services.AddSingleton(_ => new ServiceStore(Path.Combine(options.DataDir, "vigil.db")));
        services.AddSingleton<EventHub>();
        services.AddSingleton<IObjectStore>(_ => string.IsNullOrEmpty(options.Storage.S3.Bucket)
            ? new LocalFolderStore(options.Storage.Folder ?? Path.Combine(options.DataDir, "results"))
            : new S3ObjectStore(options.Storage.S3));
        services.AddSingleton<StreamManager>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddSingleton<ResultsWriter>();
        services.AddSingleton<PrometheusMetrics>();
        // registration order is start order; stop runs in reverse: pipelines first, the outbox last
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddHostedService(sp => sp.GetRequiredService<ResultsWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<StreamManager>());
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        services.Configure<JsonOptions>(o =>
        {
            ApiJson.Configure(o.SerializerOptions);
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip;
        });
        services.AddProblemDetails();
        services.AddOpenApi();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi();
        StreamEndpoints.Map(app);
        EventEndpoints.Map(app);
        WebhookEndpoints.Map(app);
        OpsEndpoints.Map(app);

        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Vigil.Serve");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            log.LogInformation("vigil serve listening on {Urls}; data in {DataDir}", string.Join(", ", Addresses(app)), options.DataDir);
            if (generatedKey) log.LogWarning("No API key configured: generated one in {Path}", Path.Combine(options.DataDir, "api-key"));
        });
        return app;
    }

    /// <summary>The addresses the server listens on (with the real port when 0 was asked for).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
}
