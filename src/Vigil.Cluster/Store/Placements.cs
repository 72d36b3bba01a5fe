using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Vigil.Service.Live;

namespace Vigil.Cluster.Store;

/// <summary>One row of <c>pipelines</c>: where a (stream, group) runs and its latest status.</summary>
public sealed record PlacementRow(string StreamId, string Role, string Node, StreamStatus? Status, DateTimeOffset Heartbeat);

/// <summary>
/// Where each (stream, group) runs, as the nodes report it: a node claims a row when its entity starts
/// (learning who ran it before: a failover or a hand-over, counted fleet-wide), and its heartbeat
/// rewrites the status of all its rows in one statement a second.
/// </summary>
public sealed class Placements(PostgresStore store)
{
    public const string Failovers = "failovers";
    public const string Rebalances = "rebalances";

    /// <summary>
    /// Records that <paramref name="node"/> now runs (stream, role) and returns the node that ran it before,
    /// if another; counts a failover when that node is no longer a member, a rebalance otherwise.
    /// </summary>
    public string? Claim(string streamId, string role, string node, Func<string, bool> isMember)
    {
        using var c = store.Open();
        var previous = store.Scalar<string?>(c, """
            WITH old AS (SELECT node FROM pipelines WHERE stream_id = @s AND grp = @g)
            INSERT INTO pipelines AS p (stream_id, grp, node, status) VALUES (@s, @g, @n, '{}')
            ON CONFLICT (stream_id, grp) DO UPDATE SET node = excluded.node, heartbeat = now()
            RETURNING (SELECT node FROM old)
            """, ("s", streamId), ("g", role), ("n", node));
        if (previous is null) return null;
        // the same name: an earlier life of this node (killed and restarted): its open defects are inherited all the same
        if (previous != node) Increment(c, isMember(previous) ? Rebalances : Failovers);
        return previous;
    }

    private void Increment(NpgsqlConnection c, string name) =>
        store.Execute(c, "INSERT INTO fleet_counters (name, value) VALUES (@n, 1) ON CONFLICT (name) DO UPDATE SET value = fleet_counters.value + 1",
            ("n", name));

    /// <summary>The node's heartbeat: every running pipeline's status in one statement; rows of pipelines stopped here removed.</summary>
    public void Heartbeat(string node, IReadOnlyList<(string Stream, string Role, StreamStatus Status)> running, IReadOnlyList<(string Stream, string Role)> stopped)
    {
        if (running.Count == 0 && stopped.Count == 0) return;
        using var c = store.Open();
        using var batch = new NpgsqlBatch(c);
        if (running.Count > 0)
        {
            var upsert = new NpgsqlBatchCommand("""
                INSERT INTO pipelines (stream_id, grp, node, status, heartbeat)
                SELECT s, g, @n, st::jsonb, now() FROM unnest(@s, @g, @st) AS v(s, g, st)
                ON CONFLICT (stream_id, grp) DO UPDATE SET node = excluded.node, status = excluded.status, heartbeat = excluded.heartbeat
                """);
            upsert.Parameters.Add(new NpgsqlParameter("n", node));
            upsert.Parameters.Add(new NpgsqlParameter("s", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = running.Select(r => r.Stream).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("g", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = running.Select(r => r.Role).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("st", NpgsqlDbType.Array | NpgsqlDbType.Text)
            {
                Value = running.Select(r => JsonSerializer.Serialize(r.Status)).ToArray(),
            });
            batch.BatchCommands.Add(upsert);
        }
        if (stopped.Count > 0)
        {
            var delete = new NpgsqlBatchCommand("DELETE FROM pipelines p USING unnest(@ds, @dg) AS v(s, g) WHERE p.stream_id = v.s AND p.grp = v.g AND p.node = @n");
            delete.Parameters.Add(new NpgsqlParameter("n", node));
            delete.Parameters.Add(new NpgsqlParameter("ds", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = stopped.Select(r => r.Stream).ToArray() });
            delete.Parameters.Add(new NpgsqlParameter("dg", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = stopped.Select(r => r.Role).ToArray() });
            batch.BatchCommands.Add(delete);
        }
        store.Count(batch.BatchCommands.Count);
        batch.ExecuteNonQuery();
    }

    /// <summary>Where (stream, role) ran last, with its last status; null when it never ran.</summary>
    public PlacementRow? Row(string streamId, string role)
    {
        using var c = store.Open();
        using var cmd = store.Command(c, "SELECT stream_id, grp, node, status::text, heartbeat FROM pipelines WHERE stream_id = @s AND grp = @g",
            ("s", streamId), ("g", role));
        return Read(cmd).FirstOrDefault();
    }

    /// <summary>Removes the row of a group that no longer exists.</summary>
    public void Forget(string streamId, string role)
    {
        using var c = store.Open();
        store.Execute(c, "DELETE FROM pipelines WHERE stream_id = @s AND grp = @g", ("s", streamId), ("g", role));
    }

    /// <summary>Every placement row (the API's and the cluster view's source).</summary>
    public IReadOnlyList<PlacementRow> All()
    {
        using var c = store.Open();
        using var cmd = store.Command(c, "SELECT stream_id, grp, node, status::text, heartbeat FROM pipelines");
        return Read(cmd);
    }

    private static List<PlacementRow> Read(NpgsqlCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<PlacementRow>();
        while (r.Read())
        {
            StreamStatus? status = null;
            try
            {
                status = JsonSerializer.Deserialize<StreamStatus>(r.GetString(3));
            }
            catch (JsonException)
            {
            }
            list.Add(new PlacementRow(r.GetString(0), r.GetString(1), r.GetString(2), status?.DefectsByKind is null ? null : status,
                new DateTimeOffset(r.GetDateTime(4), TimeSpan.Zero)));
        }
        return list;
    }

    /// <summary>Fleet-wide counters (failovers, rebalances).</summary>
    public IReadOnlyDictionary<string, long> Counters()
    {
        using var c = store.Open();
        using var cmd = store.Command(c, "SELECT name, value FROM fleet_counters");
        using var r = cmd.ExecuteReader();
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        while (r.Read()) map[r.GetString(0)] = r.GetInt64(1);
        return map;
    }

    /// <summary>Registers a role (a detector subset seen in the fleet), so a stream's groups stay the same while its nodes are away.</summary>
    public void RegisterRole(string role)
    {
        using var c = store.Open();
        store.Execute(c, "INSERT INTO fleet_roles (role) VALUES (@r) ON CONFLICT DO NOTHING", ("r", role));
    }

    public IReadOnlyList<string> Roles()
    {
        using var c = store.Open();
        using var cmd = store.Command(c, "SELECT role FROM fleet_roles ORDER BY role");
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read()) list.Add(r.GetString(0));
        return list;
    }
}
