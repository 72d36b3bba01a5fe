using System.Text.Json.Serialization;

namespace Vigil.Service.Live;

/// <summary>Where a stream's pipeline is.</summary>
public enum StreamState { Starting, Connecting, Running, Reconnecting, Paused, Stopped }

/// <summary>
/// A point-in-time view of one stream's pipeline, for the API, metrics and results. The API serves it as
/// it is (snake_case names, the state in lower case), so its property names are part of the API.
/// </summary>
/// <param name="Position">Stream time (seconds since the stream's epoch) that media has reached.</param>
/// <param name="LagSeconds">How far analysed media trails real time on the current connection.</param>
/// <param name="DefectsByKind">Defects reported so far, by kind (<c>defects</c> in the API).</param>
public sealed record StreamStatus(
    StreamState State,
    bool Stalled,
    string? LastError,
    long Connections,
    long FramesAnalysed,
    long FramesShed,
    double Fps,
    double LagSeconds,
    double Position,
    [property: JsonPropertyName("defects")] IReadOnlyDictionary<string, long> DefectsByKind,
    MediaSummary? Media)
{
    /// <summary>In a fleet: the stream's detector groups, the node running each and its state; null for one process.</summary>
    public IReadOnlyList<GroupStatus>? Groups { get; init; }

    /// <summary>In a fleet: the stream's detector groups that no node can run now (no member of their role is up).</summary>
    public IReadOnlyList<string>? Unassigned { get; init; }

    /// <summary>The status of a stream without a running pipeline: paused, or stopped.</summary>
    public static StreamStatus Idle(bool paused) =>
        new(paused ? StreamState.Paused : StreamState.Stopped, false, null, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>(), null);

    /// <summary>The audio meters of the last complete second; null before one, or without audio.</summary>
    public MeterReading? Meters { get; init; }

    /// <summary>Defects open now, by kind (an alarm that is on); those a crash left open count once found again.</summary>
    public IReadOnlyDictionary<string, long>? OpenDefects { get; init; }

    /// <summary>
    /// A stream monitoring programmes of a multiplex each as its own stream: their ids (<c>{id}.{program}</c>), in the
    /// multiplex's order; null for any other stream.
    /// </summary>
    public IReadOnlyList<string>? ProgramStreams { get; init; }

    /// <summary>
    /// ETSI TR 101 290 failures per indicator (indexed by <c>Indicator</c>) by programme (0: the multiplex as a whole)
    /// since the service started, of what this stream reports; null before a transport stream was read. For the metrics.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<int, long[]>? TransportErrors { get; init; }
}

/// <summary>One detector group of a stream in a fleet: its kinds, the node running it (null: none yet) and that pipeline's state.</summary>
public sealed record GroupStatus(string Group, IReadOnlyList<string> Detectors, string? Node, StreamState? State);

/// <summary>What the current connection carries.</summary>
public sealed record MediaSummary(string Format, string? VideoCodec, int Width, int Height, double Fps, string? AudioCodec, int SampleRate, int Channels)
{
    /// <summary>The programme of a multiplex this stream analyses (service id); null for an input analysed as one.</summary>
    public int? Program { get; init; }

    /// <summary>The programme's service name (DVB SDT), when the multiplex carries one.</summary>
    public string? ServiceName { get; init; }
}
