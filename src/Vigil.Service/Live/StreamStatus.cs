namespace Vigil.Service.Live;

/// <summary>Where a stream's pipeline is.</summary>
public enum StreamState { Starting, Connecting, Running, Reconnecting, Paused, Stopped }

/// <summary>A point-in-time view of one stream's pipeline, for the API, metrics and results.</summary>
/// <param name="Position">Stream time (seconds since the stream's epoch) that media has reached.</param>
/// <param name="LagSeconds">How far analysed media trails real time on the current connection.</param>
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
    IReadOnlyDictionary<string, long> DefectsByKind,
    MediaSummary? Media);

/// <summary>What the current connection carries.</summary>
public sealed record MediaSummary(string Format, string? VideoCodec, int Width, int Height, double Fps, string? AudioCodec, int SampleRate, int Channels);
