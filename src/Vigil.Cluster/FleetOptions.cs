namespace Vigil.Cluster;

/// <summary>
/// Settings of a fleet node, bound from the <c>Cluster</c> section of the configuration
/// (<c>VIGIL_CLUSTER__POSTGRES</c>, <c>--cluster-postgres</c>, …). A node runs in cluster mode when
/// <see cref="Postgres"/> is set; without it <c>vigil serve</c> is one process on SQLite.
/// </summary>
public sealed class FleetOptions
{
    /// <summary>PostgreSQL connection string of the fleet's shared store (a secret: never logged).</summary>
    public string? Postgres { get; set; }

    /// <summary>
    /// This node's detector subset, which is its cluster role: kinds or families joined by <c>+</c> or <c>,</c>
    /// (<c>video</c>, <c>audio+av.sync</c>). Empty: every detector.
    /// </summary>
    public string Role { get; set; } = "";

    /// <summary>Name events carry as <c>node</c>; default <c>host:port</c> of the cluster endpoint.</summary>
    public string? Name { get; set; }

    /// <summary>Address the node listens on for cluster traffic.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Address other nodes reach this one at (a pod's IP); default <see cref="Host"/>.</summary>
    public string? PublicHost { get; set; }

    /// <summary>Cluster (Akka.Remote) port.</summary>
    public int Port { get; set; } = 4053;

    /// <summary>Seed nodes, <c>host:port</c>; a node that lists itself first starts the cluster.</summary>
    public List<string> Seeds { get; set; } = [];

    /// <summary><c>kubernetes</c>: find the other nodes with Akka.Management's cluster bootstrap and the Kubernetes API instead of seeds.</summary>
    public string? Discovery { get; set; }

    /// <summary>Akka.Management HTTP port (bootstrap contact point) when <see cref="Discovery"/> is set.</summary>
    public int ManagementPort { get; set; } = 8558;

    /// <summary>Label selector of the fleet's pods for Kubernetes discovery.</summary>
    public string PodLabelSelector { get; set; } = "app=vigil";

    /// <summary>Contact points needed before a new cluster is formed by bootstrap.</summary>
    public int RequiredContactPoints { get; set; } = 1;

    /// <summary>
    /// Heartbeats missing for this long make a node unreachable (phi accrual failure detector's acceptable
    /// pause). Shorter fails over sooner but downs a node that merely paused (GC, a starved CPU).
    /// </summary>
    public double HeartbeatPauseSeconds { get; set; } = 2.5;

    /// <summary>The split-brain resolver downs the unreachable side after membership was stable this long.</summary>
    public double StableAfterSeconds { get; set; } = 2;

    /// <summary>
    /// After a node is removed, singletons (reconciler, shard coordinators) and its shards wait this long before
    /// starting elsewhere: the margin for a downed node that is not dead to stop its own.
    /// </summary>
    public double DownRemovalMarginSeconds { get; set; } = 1;

    /// <summary>How often the reconciler compares desired and running pipelines (also the longest a change waits).</summary>
    public double ReconcileSeconds { get; set; } = 1;

    /// <summary>
    /// A pipeline that hears nothing from the reconciler for this long stops itself (a removed stream whose stop was
    /// lost); well above the time a reconciler takes to move when its node dies.
    /// </summary>
    public double EntityLeaseSeconds { get; set; } = 60;

    /// <summary>An inherited open defect that the new pipeline does not confirm within this long is closed with <c>closed_by: failover</c>.</summary>
    public double FailoverGraceSeconds { get; set; } = 12;

    /// <summary>Shards per role; a shard is the unit the coordinator moves (ten per node is a good start).</summary>
    public int Shards { get; set; } = 64;

    /// <summary>Run a synthetic pipeline (no media, heartbeats only) instead of decoding: the control-plane benchmark.</summary>
    public bool Synthetic { get; set; }

    public string AdvertisedHost => string.IsNullOrEmpty(PublicHost) ? Host : PublicHost;

    public string NodeName => string.IsNullOrEmpty(Name) ? $"{AdvertisedHost}:{Port}" : Name;

    public bool Enabled => !string.IsNullOrWhiteSpace(Postgres);
}
