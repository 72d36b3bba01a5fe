using Vigil.Tests.Service;
using Vigil.Tests.Service.Support;
using Vigil.Tests.Support;
using Vigil.Tools.Transport;

namespace Vigil.Tests.Transport;

/// <summary>
/// <c>vigil serve</c> reports the transport like <c>analyze</c>: a <c>ts.*</c> defect starts over SSE when the
/// indicator fails and ends when it has passed again, on a transport stream with a fault written into it at a
/// known PID (<see cref="TsFaults"/>).
/// </summary>
[Collection(LiveServiceCollection.Name)]
public sealed class TransportServiceTests
{
    [Fact]
    public async Task Serve_LostVideoPackets_ContinuityErrorStartsThenEndsOnItsPid()
    {
        var faults = new TsFaults(await File.ReadAllBytesAsync(await TransportClipTests.Clean()));
        faults.Lose(faults.VideoPid, 3.0, 3);
        var path = Path.Combine(TestClips.WorkFolder, "transport-serve-lose-3.ts");
        await File.WriteAllBytesAsync(path, faults.Build());
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?> { ["AllowLocalInputs"] = "true" });
        await using var sse = SseListener.Open(service.Http, "/api/events/live?kind=ts.continuity_count_error");
        // video.black too: pictures are decoded, so the transport finding has a media time to sit at
        await service.AddStreamAsync(new { url = path, detectors = new[] { "ts.continuity_count_error", "video.black" } });

        await sse.WaitForAsync(e => e.Type == "defect", 40, "the continuity error to end");
        var start = sse.Events.First(e => e.Type == "defect_start").Data;
        var end = sse.Events.First(e => e.Type == "defect").Data;
        Assert.Equal("ts.continuity_count_error", start["kind"]!.GetValue<string>());
        Assert.Equal("ts.continuity_count_error", end["kind"]!.GetValue<string>());
        Assert.Equal(faults.VideoPid, end["details"]!["pid"]!.GetValue<double>());
        Assert.Equal(1, end["details"]!["count"]!.GetValue<double>());
        Assert.Equal(start["start"]!.GetValue<double>(), end["start"]!.GetValue<double>());
        // serve reads a local file faster than real time, and an event's time is never later than the media it
        // was found on arrived (issue 12.7): the defect sits at the stream time of its arrival, not at its 3 s of
        // mux time (analyze, which has no wall clock, places it there: TransportClipTests)
        Assert.InRange(end["start"]!.GetValue<double>(), 0.0, end["end"]!.GetValue<double>());
    }
}
