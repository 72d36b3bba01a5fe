using Vigil.Service.Store;

namespace Vigil.Service.Live;

/// <summary>
/// What a stream looks and sounds like now, read from pipelines of this process: the thumbnail of the one
/// that decodes pictures, and the loudness history of the one that measures audio (in a fleet these may be
/// two detector groups, on two nodes: <see cref="IStreamControl"/> asks the others).
/// </summary>
public static class LiveView
{
    /// <summary>The newest thumbnail among <paramref name="pipelines"/>; null when none has a picture.</summary>
    public static Thumbnail? Thumbnail(IEnumerable<StreamSupervisor> pipelines) =>
        pipelines.Select(s => s.Picture.Current()).FirstOrDefault(t => t is not null);

    /// <summary>The last <paramref name="seconds"/> of loudness of the first of <paramref name="pipelines"/> that measured audio; null when none did.</summary>
    public static LoudnessHistory? Loudness(IEnumerable<StreamSupervisor> pipelines, StreamConfig stream, int seconds)
    {
        if (pipelines.FirstOrDefault(s => s.Meters.Latest is not null) is not { } supervisor) return null;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - stream.Epoch;
        // stream time runs ahead of the wall clock after a reconnect that found media already reached
        return supervisor.Meters.History(Math.Max(now, supervisor.Status.Position), seconds);
    }
}
