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
using Vigil.Service.Dashboard;
using Vigil.Service.Live;
using Vigil.Service.Notify;
using Vigil.Service.Ops;
using Vigil.Service.Security;
using Vigil.Service.Segments;
using Vigil.Service.Store;

namespace Vigil.Service;

/// <summary>
/// Builds the <c>vigil serve</c> web application: configuration (JSON file, then <c>VIGIL_</c>
/// environment variables, then explicit overrides), the store, the pipelines, notifications, results
/// and the HTTP API. Hosted services stop in reverse order, so the pipelines close their defects
/// first, then the last results segment is written, then the webhook outbox stops.
/// Secure by default: every endpoint but <c>/healthz</c> and the OpenAPI document needs a key
/// (<see cref="KeyAuthentication"/>), the data folder is owner-only, logs carry no URL secrets.
/// </summary>
public static class VigilServer
{
    public static WebApplication Build(string? configFile = null, IReadOnlyDictionary<string, string?>? overrides = null, IServiceMode? mode = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        if (configFile is not null) builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables("VIGIL_");
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        var options = new ServiceOptions();
        builder.Configuration.Bind(options);
        options.DataDir = Path.GetFullPath(options.DataDir);
        OwnerOnly.CreateFolder(options.DataDir);
        var generated = new List<string>();
        if (options.ApiKeys.Count == 0) options.ApiKeys.Add(LoadOrCreateKey(options.DataDir, "api-key", generated));
        if (options.ReadKeys.Count == 0) options.ReadKeys.Add(LoadOrCreateKey(options.DataDir, "read-key", generated));
        // a bad network in an allow-list fails here, with its name, not at the first webhook
        _ = NetworkPolicy.ForWebhooks(options.WebhookAllowedNetworks);
        _ = NetworkPolicy.ForInputs(options.InputAllowedNetworks);
        var secrets = SecretBox.FromKeyFile(options.SecretKeyFile ?? Path.Combine(options.DataDir, "secret-key"));

        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        builder.Logging.ClearProviders();
        if (options.JsonLogs)
            builder.Logging.AddJsonConsole(o => { o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.UseUtcTimestamp = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        if (builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.RedactUrls();

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(new AccessKeys(options.ApiKeys, options.ReadKeys));
        services.AddKeyAuthentication(options);
        services.AddSingleton<InputPolicy>();
        services.AddSingleton<LiveConnectionLimits>();
        services.AddSingleton<EventHub>();
        services.AddSingleton<IObjectStore>(_ => string.IsNullOrEmpty(options.Storage.S3.Bucket)
            ? new LocalFolderStore(options.Storage.Folder ?? Path.Combine(options.DataDir, "results"))
            : new S3ObjectStore(options.Storage.S3));
        services.AddSingleton<WebhookDispatcher>();
        services.AddSingleton<ResultsWriter>();
        services.AddSingleton<PrometheusMetrics>();
        // registration order is start order; stop runs in reverse: pipelines first, the outbox last
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddHostedService(sp => sp.GetRequiredService<ResultsWriter>());
        (mode ??= new Standalone()).AddServices(builder, options, secrets);
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        services.Configure<JsonOptions>(o =>
        {
            ApiJson.Configure(o.SerializerOptions);
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip;
        });
        services.AddProblemDetails();
        services.AddOpenApi(OpenApiSecurity.Configure);

        var app = builder.Build();
        // a body over the limit or a malformed request found while binding is the client's error, not a 500
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : 500,
        });
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi().AllowAnonymous();
        StreamEndpoints.Map(app);
        EventEndpoints.Map(app);
        WebhookEndpoints.Map(app);
        OpsEndpoints.Map(app);
        mode.MapEndpoints(app);
        AlarmEndpoints.Map(app);
        LiveViewEndpoints.Map(app);
        AccessEndpoints.Map(app);
        DashboardAssets.Map(app);

        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Vigil.Serve");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            log.LogInformation("vigil serve listening on {Urls}; data in {DataDir}", string.Join(", ", Addresses(app)), options.DataDir);
            foreach (var path in generated) log.LogWarning("No key of this kind configured: generated one in {Path} (mode 0600)", path);
            if (options.OpenReads) log.LogWarning("OpenReads is on: anyone who can reach {Urls} may read streams and events without a key", options.Urls);
        });
        return app;
    }

    private static string LoadOrCreateKey(string dataDir, string name, List<string> generated)
    {
        var path = Path.Combine(dataDir, name);
        if (!File.Exists(path)) generated.Add(path);
        return AccessKeys.LoadOrCreate(path);
    }

    /// <summary>The addresses the server listens on (with the real port when 0 was asked for).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
}
