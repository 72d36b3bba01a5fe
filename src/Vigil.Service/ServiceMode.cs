using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Service.Live;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Service;

/// <summary>
/// How <c>vigil serve</c> keeps its state and runs its streams: <see cref="Standalone"/> (SQLite, a pipeline
/// per stream in this process) or a fleet node (Vigil.Cluster: PostgreSQL, pipelines placed by the cluster).
/// </summary>
public interface IServiceMode
{
    /// <summary>
    /// Registers <see cref="IServiceStore"/>, <see cref="IStreamControl"/> and the hosted services that run
    /// the streams; called after the outbox and results writer are registered, so these stop first.
    /// </summary>
    /// <param name="secrets">Seals webhook secrets in the store (<see cref="ServiceOptions.SecretKeyFile"/>).</param>
    void AddServices(WebApplicationBuilder builder, ServiceOptions options, SecretBox secrets);

    /// <summary>Maps the endpoints the mode adds to the common API.</summary>
    void MapEndpoints(WebApplication app)
    {
    }
}

/// <summary>One process on its embedded store: the default.</summary>
public sealed class Standalone : IServiceMode
{
    public void AddServices(WebApplicationBuilder builder, ServiceOptions options, SecretBox secrets)
    {
        builder.Services.AddSingleton<IServiceStore>(_ => new ServiceStore(Path.Combine(options.DataDir, "vigil.db"), secrets));
        builder.Services.AddSingleton<StreamManager>();
        builder.Services.AddSingleton<IStreamControl>(sp => sp.GetRequiredService<StreamManager>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StreamManager>());
    }
}
