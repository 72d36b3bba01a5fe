using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Cluster.Hosting.SBR;
using Akka.Configuration;
using Akka.Discovery.KubernetesApi;
using Akka.Hosting;
using Akka.Management;
using Akka.Management.Cluster.Bootstrap;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Cluster.Entities;
using Vigil.Cluster.Messages;
using Vigil.Cluster.Operations;
using Vigil.Cluster.Orchestration;
using Vigil.Cluster.Placement;
using Vigil.Cluster.Store;
using Vigil.Service;
using Vigil.Service.Api;
using Vigil.Service.Live;
using Vigil.Service.Notify;
using Vigil.Service.Ops;
using Vigil.Service.Security;
using Vigil.Service.Store;

namespace Vigil.Cluster;

/// <summary>
/// <c>vigil serve</c> as a fleet node: the same API, on the shared PostgreSQL store, with the pipelines
/// placed by Akka.NET Cluster Sharding. The node joins the cluster (seeds, or Akka.Management cluster
/// bootstrap with Kubernetes API discovery) with its detector subset as its role, hosts that role's
/// shard region, and takes part in electing the reconciler singleton.
/// </summary>
public sealed class FleetMode(FleetOptions fleet) : IServiceMode
{
    public const string SystemName = "vigil";

    /// <summary>
    /// The <c>Cluster</c> settings from the same sources <c>vigil serve</c> reads (JSON file, <c>VIGIL_</c>
    /// environment, explicit overrides); null when they ask for no cluster (no PostgreSQL connection).
    /// </summary>
    public static FleetOptions? Configured(string? configFile, IReadOnlyDictionary<string, string?>? overrides)
    {
        var configuration = new ConfigurationBuilder();
        if (configFile is not null) configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        configuration.AddEnvironmentVariables("VIGIL_");
        if (overrides is not null) configuration.AddInMemoryCollection(overrides);
        var fleet = new FleetOptions();
        configuration.Build().GetSection("Cluster").Bind(fleet);
        return fleet.Enabled ? fleet : null;
    }

    /// <summary>Builds the web application of a fleet node.</summary>
    public static WebApplication Build(string? configFile, IReadOnlyDictionary<string, string?>? overrides, FleetOptions fleet) =>
        VigilServer.Build(configFile, overrides, new FleetMode(fleet));

    /// <summary><c>GET /api/fleet/local</c>: the (stream, group) pipelines this node runs; <c>GET /api/fleet</c>: where every one runs.</summary>
    public void MapEndpoints(WebApplication app)
    {
        var group = app.MapGroup("/api/fleet").WithTags("fleet"); // reads: a read key, as every read (no URLs in them)
        group.MapGet("/local", (LocalGroups local) => local.All
                .Select(p => new { stream = p.Assignment.Config.Id, group = p.Assignment.Role, kinds = p.Assignment.ReportedKinds,
                    state = p.Runner.Status.State.ToString().ToLowerInvariant() })
                .OrderBy(p => p.stream, StringComparer.Ordinal).ToList())
            .WithSummary("The (stream, detector group) pipelines running on this node");
        group.MapGet("/", (FleetStreams streams, FleetNodeContext context) => new
            {
                node = context.NodeName,
                role = context.Role,
                roles = streams.Roles(),
                pipelines = streams.LiveRows().Select(r => new { stream = r.StreamId, group = r.Role, node = r.Node,
                    state = r.Status?.State.ToString().ToLowerInvariant() }).OrderBy(r => r.stream, StringComparer.Ordinal).ThenBy(r => r.group, StringComparer.Ordinal).ToList(),
            })
            .WithSummary("Where every (stream, detector group) of the fleet runs");
    }

    public void AddServices(WebApplicationBuilder builder, ServiceOptions options, SecretBox secrets)
    {
        var role = DetectorGroups.Canonical(fleet.Role);
        options.Node = fleet.NodeName;
        var services = builder.Services;
        services.AddSingleton(fleet);
        services.AddSingleton(sp => new PostgresStore(fleet.Postgres!, fleet.NodeName, options.WebhookTimeoutSeconds + 5,
            sp.GetRequiredService<ILoggerFactory>(), secrets));
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning);
        services.AddSingleton<IServiceStore>(sp => sp.GetRequiredService<PostgresStore>());
        services.AddSingleton(sp => new Placements(sp.GetRequiredService<PostgresStore>()));
        services.AddSingleton<LocalGroups>();
        services.AddSingleton<IGroupRunnerFactory>(sp => fleet.Synthetic
            ? new SyntheticRunnerFactory(sp.GetRequiredService<IServiceStore>())
            : new SupervisorRunnerFactory(sp.GetRequiredService<IServiceStore>(), sp.GetRequiredService<Placements>(), sp.GetRequiredService<EventHub>(), options,
                sp.GetRequiredService<InputPolicy>(), fleet,
                sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new FleetNodeContext(fleet, role, sp.GetRequiredService<PostgresStore>(), sp.GetRequiredService<Placements>(),
            sp.GetRequiredService<LocalGroups>(), sp.GetRequiredService<IGroupRunnerFactory>()));
        services.AddSingleton<FleetStreams>();
        services.AddSingleton<IStreamControl>(sp => sp.GetRequiredService<FleetStreams>());
        services.AddSingleton<FleetOps>();
        services.AddSingleton<IOpsContributor>(sp => sp.GetRequiredService<FleetOps>());
        services.AddHostedService<FleetHeartbeat>();
        // registered last, so stopped first: the node leaves the cluster and hands its pipelines over before the outbox stops
        services.AddAkka(SystemName, (akka, sp) => Configure(akka, sp, role));
    }

    private void Configure(AkkaConfigurationBuilder akka, IServiceProvider sp, string role)
    {
        var context = sp.GetRequiredService<FleetNodeContext>();
        var seeds = fleet.Seeds.Select(s => $"akka.tcp://{SystemName}@{s}").ToArray();
        akka.AddHocon(ConfigurationFactory.ParseString(Hocon(role)), HoconAddMode.Prepend)
            .ConfigureLoggers(l =>
            {
                l.LogLevel = Akka.Event.LogLevel.InfoLevel;
                l.ClearLoggers();
                l.AddLoggerFactory();
            })
            .WithRemoting(new RemoteOptions { HostName = fleet.Host, Port = fleet.Port, PublicHostName = fleet.AdvertisedHost })
            .WithClustering(new ClusterOptions
            {
                // roles go in the HOCON above, quoted: a role such as audio+av.sync is not a bare HOCON string
                SeedNodes = string.IsNullOrEmpty(fleet.Discovery) ? seeds : [],
                SplitBrainResolver = new KeepMajorityOption(),
            })
            .AddStartup((system, _) =>
            {
                context.System = system;
                context.Placements.RegisterRole(role);
                // started before the reconciler singleton, which sends to it
                ClusterSharding.Get(system).Start(FleetNodeContext.TypeName(role),
                    entityId => Props.Create(() => new GroupEntity(entityId, role, context)),
                    ClusterShardingSettings.Create(system).WithRole(role).WithRememberEntities(false),
                    new GroupMessageExtractor(fleet.Shards),
                    ClusterSharding.Get(system).DefaultShardAllocationStrategy(ClusterShardingSettings.Create(system)),
                    HandOverStop.Instance);
            })
            .WithActors((system, _) => system.ActorOf(Props.Create(() => new LiveViewActor(context.Local)), LiveViewActor.Name))
            .WithSingleton<Reconciler>("reconciler", Props.Create(() => new Reconciler(context)), new ClusterSingletonOptions(), createProxyToo: true);
        if (string.Equals(fleet.Discovery, "kubernetes", StringComparison.OrdinalIgnoreCase))
        {
            akka.WithAkkaManagement(port: fleet.ManagementPort)
                .WithClusterBootstrap(o =>
                {
                    o.ContactPointDiscovery.DiscoveryMethod = "kubernetes-api";
                    o.ContactPointDiscovery.RequiredContactPointsNr = fleet.RequiredContactPoints;
                    o.ContactPointDiscovery.PortName = "management";
                }, autoStart: true)
                .WithKubernetesDiscovery(o => o.PodLabelSelector = fleet.PodLabelSelector);
        }
    }

    /// <summary>
    /// Failure detection and downing, tuned for failover in seconds (see README, "Fleet"): a node whose
    /// heartbeats stop for <see cref="FleetOptions.HeartbeatPauseSeconds"/> is unreachable; the split-brain
    /// resolver (keep-majority) downs it once membership was stable for <see cref="FleetOptions.StableAfterSeconds"/>;
    /// a downed node shuts itself down rather than run on beside its replacement.
    /// </summary>
    private string Hocon(string role) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $$"""
        akka {
          actor {
            serializers { vigil-fleet = "Vigil.Cluster.Messages.FleetSerializer, Vigil.Cluster" }
            serialization-bindings { "Vigil.Cluster.Messages.IFleetMessage, Vigil.Cluster" = vigil-fleet }
          }
          cluster {
            roles = [{{Quote(role)}}, {{Quote(FleetNodeContext.NodeRolePrefix + fleet.NodeName)}}]
            downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            split-brain-resolver {
              active-strategy = keep-majority
              stable-after = {{fleet.StableAfterSeconds:0.###}}s
            }
            failure-detector {
              heartbeat-interval = 1s
              acceptable-heartbeat-pause = {{fleet.HeartbeatPauseSeconds:0.###}}s
              threshold = 8.0
            }
            gossip-interval = 500ms
            down-removal-margin = {{fleet.DownRemovalMarginSeconds:0.###}}s
            run-coordinated-shutdown-when-down = on
            sharding {
              rebalance-interval = 2s
              retry-interval = 1s
              least-shard-allocation-strategy.rebalance-absolute-limit = 20
              least-shard-allocation-strategy.rebalance-relative-limit = 0.2
              passivate-idle-entity-after = off
            }
          }
          coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 15s
        }
        """);

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}

/// <summary>Every second: this node's pipeline statuses (one statement) and stream positions (one more) into the shared store.</summary>
internal sealed class FleetHeartbeat(FleetNodeContext fleet, ILogger<FleetHeartbeat> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        fleet.Store.Feed.Start();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop)) Beat();
        }
        catch (OperationCanceledException)
        {
        }
        Beat(); // the positions reached before a graceful stop
    }

    private void Beat()
    {
        try
        {
            var running = fleet.Local.All.Select(p => (p.Assignment.Config.Id, p.Assignment.Role, p.Runner.Status)).ToList();
            fleet.Placements.Heartbeat(fleet.NodeName, running, fleet.Local.DrainStopped());
            fleet.Store.FlushPositions();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            log.LogWarning("Fleet heartbeat failed: {Reason}", e.Message);
        }
    }
}
