using System.Text.Json;
using Vigil.Service.Api;
using Vigil.Service.Live;
using Vigil.Service.Store;

namespace Vigil.Tests.Service;

/// <summary>
/// The JSON shape of a stream and its status as the API serves it (<c>GET /api/streams/{id}</c>), pinned
/// field by field: dashboards and scripts read these names, so a refactoring must not rename one.
/// </summary>
public sealed class StreamResourceJsonTests
{
    private static readonly DateTimeOffset Created = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static StreamConfig Config(bool paused) =>
        new("cam-1", "Camera 1", "udp://127.0.0.1:5000", ["video.black"], new Dictionary<string, string> { ["video.black.min_duration"] = "2" },
            ["0.8,0,0.2,0.1"], paused, Created, Created.AddMinutes(1), 0);

    [Fact]
    public void StreamResource_RunningStream_SerialisesEveryStatusFieldUnderItsApiName()
    {
        var status = new StreamStatus(StreamState.Reconnecting, true, "input stalled", 3, 1200, 7, 25.01, 0.482, 48.04,
            new Dictionary<string, long> { ["video.black"] = 2 },
            new MediaSummary("mpegts", "h264", 1280, 720, 25, "aac", 48000, 2));
        var json = JsonSerializer.Serialize(StreamResource.From(Config(paused: false), status, redact: false), ApiJson.Options);
        Assert.Equal(string.Concat("""
            {"id":"cam-1","name":"Camera 1","url":"udp://127.0.0.1:5000","detectors":["video.black"],"thresholds":{"video.black.min_duration":"2"},
            "masks":["0.8,0,0.2,0.1"],"paused":false,"created_at":"2024-05-01T12:00:00+00:00","updated_at":"2024-05-01T12:01:00+00:00",
            "status":{"state":"reconnecting","stalled":true,"last_error":"input stalled","connections":3,"frames_analysed":1200,"frames_shed":7,
            "fps":25.01,"lag_seconds":0.482,"position":48.04,"defects":{"video.black":2},
            "media":{"format":"mpegts","video_codec":"h264","width":1280,"height":720,"fps":25,"audio_codec":"aac","sample_rate":48000,"channels":2}}}
            """.Split('\n')), json);
    }

    [Fact]
    public void StreamResource_WithMeters_SerialisesTheMetersTheDashboardReads()
    {
        var status = new StreamStatus(StreamState.Running, false, null, 1, 250, 0, 25, 0.1, 10, new Dictionary<string, long>(), null)
        {
            Meters = new MeterReading(Created, -20.5, -22.25, -3.5, [new ChannelLevel(-6, -18.5), new ChannelLevel(null, null)]),
        };
        var json = JsonSerializer.Serialize(StreamResource.From(Config(paused: false), status, redact: false), ApiJson.Options);
        Assert.EndsWith("""
            "defects":{},"meters":{"time":"2024-05-01T12:00:00+00:00","momentary":-20.5,"short_term":-22.25,"true_peak":-3.5,"channels":[{"peak":-6,"rms":-18.5},{}]}}}
            """, json);
    }

    [Theory]
    [InlineData(true, "paused")]
    [InlineData(false, "stopped")]
    public void StreamResource_NoPipeline_ShowsAnIdleStatusWithoutMediaOrError(bool paused, string state)
    {
        var json = JsonSerializer.Serialize(StreamResource.From(Config(paused), null, redact: false), ApiJson.Options);
        Assert.EndsWith(
            $$$$"""
            "status":{"state":"{{{{state}}}}","stalled":false,"connections":0,"frames_analysed":0,"frames_shed":0,"fps":0,"lag_seconds":0,"position":0,"defects":{}}}
            """, json);
    }

    [Fact]
    public void StreamResource_InAFleet_StatusNamesEachGroupItsNodeAndWhatNoNodeCanRun()
    {
        var running = StreamStatus.Idle(false) with { State = StreamState.Running };
        var placement = new StreamPlacement(
            [new GroupPlacement("video", ["video.black"], "10.0.0.1:4101", running), new GroupPlacement("audio", ["audio.silence"], null, null)],
            ["audio"]);
        var json = JsonSerializer.Serialize(StreamResource.From(Config(paused: false), running, redact: false, placement), ApiJson.Options);
        Assert.EndsWith("""
            "defects":{},"groups":[{"group":"video","detectors":["video.black"],"node":"10.0.0.1:4101","state":"running"},{"group":"audio","detectors":["audio.silence"]}],"unassigned":["audio"]}}
            """, json);
    }
}
