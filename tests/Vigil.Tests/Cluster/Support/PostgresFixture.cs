using Vigil.Cluster.Store;

namespace Vigil.Tests.Cluster.Support;

/// <summary>
/// One private PostgreSQL server for the fleet tests (initdb + pg_ctl on a free 127.0.0.1 port, removed
/// after the run); each test takes a database of its own. scripts/test-setup.sh installs PostgreSQL.
/// </summary>
public sealed class PostgresFixture : IDisposable
{
    private readonly PrivatePostgres _server = PrivatePostgres.Start();
    private int _databases;

    /// <summary>A new, empty database; its connection string.</summary>
    public string NewDatabase(string tag) => _server.CreateDatabase($"{tag}_{Interlocked.Increment(ref _databases)}");

    public void Dispose() => _server.Dispose();
}

/// <summary>
/// The fleet tests run alone, after the others: their nodes' failure detectors must hear heartbeats on time,
/// and a 2-core machine shared with the rest of the suite delays them by seconds (a node then looks dead).
/// </summary>
[CollectionDefinition("postgres", DisableParallelization = true)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
