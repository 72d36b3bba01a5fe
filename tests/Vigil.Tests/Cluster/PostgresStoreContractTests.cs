using Npgsql;
using Vigil.Cluster.Store;
using Vigil.Service.Security;
using Vigil.Service.Store;
using Vigil.Tests.Cluster.Support;
using Vigil.Tests.Service;

namespace Vigil.Tests.Cluster;

/// <summary>The fleet's shared store (PostgreSQL) against the store contract the embedded store also meets.</summary>
[Collection("postgres")]
public sealed class PostgresStoreContractTests(PostgresFixture pg) : StoreContract
{
    private readonly Dictionary<IServiceStore, string> _databases = [];

    protected override IServiceStore NewStore(SecretBox secrets)
    {
        var db = pg.NewDatabase("contract");
        var store = new PostgresStore(db, "node-a", 30, secrets: secrets);
        _databases[store] = db;
        return store;
    }

    protected override string? StoredSecret(IServiceStore store, string webhookId)
    {
        using var c = new NpgsqlConnection(_databases[store]);
        c.Open();
        using var cmd = new NpgsqlCommand("SELECT secret FROM webhooks WHERE id = @id", c);
        cmd.Parameters.AddWithValue("id", webhookId);
        return cmd.ExecuteScalar() as string;
    }
}
