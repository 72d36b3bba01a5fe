using Microsoft.Data.Sqlite;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>
/// The first design's orchestration, as rows in a database: a state machine per stream-second whose every
/// state transition is written, as a serverless workflow records it. Here the database is SQLite (one file in
/// WAL mode, shared by the converter and the detector process; synchronous=NORMAL: each transition is its own
/// committed transaction, durable against a process crash). SQLite is embedded, so its CPU is inside the two
/// processes that write and poll it. Per stream-second: one <see cref="Converted"/> transition (the converter
/// has put the second's objects) and one per detector (that detector has analysed it).
/// Not thread-safe: one instance per thread.
/// </summary>
public sealed class Orchestration : IDisposable
{
    /// <summary>The state a second enters when the converter has put all its objects.</summary>
    public const string Converted = "converted";

    private readonly SqliteConnection _db;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _ready;
    private readonly SqliteCommand _ended;

    private Orchestration(SqliteConnection db)
    {
        _db = db;
        _insert = Command("INSERT INTO transitions (stream, second, state, at) VALUES ($stream, $second, $state, $at)",
            "$stream", "$second", "$state", "$at");
        _ready = Command("SELECT COUNT(*) FROM transitions WHERE stream = $stream AND second = $second AND state = 'converted'",
            "$stream", "$second");
        _ended = Command("SELECT seconds FROM streams WHERE stream = $stream AND seconds IS NOT NULL", "$stream");
    }

    /// <summary>Creates the database file with its tables (the benchmark does this once per run).</summary>
    public static void Create(string path)
    {
        using var db = Connect(path);
        Execute(db, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE streams (stream INTEGER PRIMARY KEY, info TEXT NOT NULL, seconds INTEGER);
            CREATE TABLE transitions (id INTEGER PRIMARY KEY, stream INTEGER NOT NULL, second INTEGER NOT NULL,
                                      state TEXT NOT NULL, at REAL NOT NULL);
            CREATE INDEX transitions_by_second ON transitions (stream, second, state);
            """);
    }

    /// <summary>Opens the database <see cref="Create"/> made.</summary>
    public static Orchestration Open(string path) => new(Connect(path));

    /// <summary>Records that stream <paramref name="stream"/> started, with what the converter probed (JSON).</summary>
    public void StreamStarted(int stream, string info)
    {
        using var command = _db.CreateCommand();
        command.CommandText = "INSERT INTO streams (stream, info) VALUES ($stream, $info)";
        command.Parameters.AddWithValue("$stream", stream);
        command.Parameters.AddWithValue("$info", info);
        command.ExecuteNonQuery();
    }

    /// <summary>What the converter probed for <paramref name="stream"/>; null until it started.</summary>
    public string? StreamInfo(int stream)
    {
        using var command = _db.CreateCommand();
        command.CommandText = "SELECT info FROM streams WHERE stream = $stream";
        command.Parameters.AddWithValue("$stream", stream);
        return command.ExecuteScalar() as string;
    }

    /// <summary>Records that stream <paramref name="stream"/> ended after <paramref name="seconds"/> seconds (objects).</summary>
    public void StreamEnded(int stream, long seconds)
    {
        using var command = _db.CreateCommand();
        command.CommandText = "UPDATE streams SET seconds = $seconds WHERE stream = $stream";
        command.Parameters.AddWithValue("$stream", stream);
        command.Parameters.AddWithValue("$seconds", seconds);
        command.ExecuteNonQuery();
    }

    /// <summary>Writes one state transition: second <paramref name="second"/> of <paramref name="stream"/> entered <paramref name="state"/>.</summary>
    public void Transition(int stream, long second, string state)
    {
        _insert.Parameters["$stream"].Value = stream;
        _insert.Parameters["$second"].Value = second;
        _insert.Parameters["$state"].Value = state;
        _insert.Parameters["$at"].Value = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        _insert.ExecuteNonQuery();
    }

    /// <summary>Whether the converter has finished second <paramref name="second"/> of <paramref name="stream"/>.</summary>
    public bool IsConverted(int stream, long second)
    {
        _ready.Parameters["$stream"].Value = stream;
        _ready.Parameters["$second"].Value = second;
        return (long)_ready.ExecuteScalar()! > 0;
    }

    /// <summary>How many seconds <paramref name="stream"/> had, once the converter has seen its end; null before.</summary>
    public long? EndedAfter(int stream)
    {
        _ended.Parameters["$stream"].Value = stream;
        return _ended.ExecuteScalar() is long seconds ? seconds : null;
    }

    /// <summary>Transitions written, by state.</summary>
    public Dictionary<string, long> CountByState()
    {
        using var command = _db.CreateCommand();
        command.CommandText = "SELECT state, COUNT(*) FROM transitions GROUP BY state";
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<string, long>();
        while (reader.Read()) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    public void Dispose()
    {
        _insert.Dispose();
        _ready.Dispose();
        _ended.Dispose();
        _db.Dispose();
    }

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        var command = _db.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name });
        command.Prepare();
        return command;
    }

    private static SqliteConnection Connect(string path)
    {
        // no pooling: each process holds its connections for the whole run, and the file is deleted after it
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 60 }.ToString());
        db.Open();
        Execute(db, "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 60000;");
        return db;
    }

    private static void Execute(SqliteConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
