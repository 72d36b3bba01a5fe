using System.Diagnostics;
using Vigil.Media;
using Vigil.Tests.Service.Support;
using Vigil.Transport;

namespace Vigil.Tests.Transport;

/// <summary>
/// 2.4 on a live input end to end: a paced sender (<see cref="PacedTs"/>, each datagram at its PCR time) sends
/// an ffmpeg-made variable-rate transport stream over loopback UDP to the real receive path (FFmpeg's udp
/// protocol and its FIFO thread, the shim's tap stamping each read, the analyser, the decoder reading on the
/// same thread). Wrong PCRs are found on their PID; a sender's pause and burst, a sender clock 50 ppm fast,
/// and ten busy processes on the receiver's two cores raise nothing. Alone in their collection: the load test
/// must not load the other live tests, nor theirs this one.
/// </summary>
[Collection(Name)]
public sealed class PcrArrivalLiveTests
{
    public const string Name = "pcr-arrival-live";

    /// <summary>Seconds of the stream sent; the receiver joins a moment after the sender starts, as on a live feed.</summary>
    private const double Sent = 7.0;

    private sealed record Received(long Errors, IReadOnlyList<TransportEvent> Raised, long Pcrs, double Seconds);

    private static async Task<Received> SendAndReceiveAsync(PacedTs ts, double ppmFast = 0, double pauseAt = double.PositiveInfinity, double pauseSeconds = 0)
    {
        var port = Net.FreeUdpPort();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var sending = ts.SendAsync(port, Sent, stop.Token, ppmFast, pauseAt, pauseSeconds);
        try
        {
            return await Task.Run(() => Receive(port, sending));
        }
        finally
        {
            await stop.CancelAsync();
            await sending;
        }
    }

    /// <summary>Reads until the sender is done and the input has gone quiet (bounded by the open and stall timeouts).</summary>
    private static Received Receive(int port, Task sending)
    {
        var raised = new List<TransportEvent>();
        using var source = MediaSource.Open($"udp://127.0.0.1:{port}", new MediaOpenOptions
        {
            DecodeThreads = 1,
            OpenTimeout = TimeSpan.FromSeconds(20),
            IoTimeout = TimeSpan.FromSeconds(2),
        });
        var analyzer = source.Transport ?? throw new InvalidOperationException("no transport analysis on a UDP MPEG-TS input");
        void Take(MediaItem item)
        {
            item.Video?.Release();
            item.Audio?.Release();
            if (item is { Kind: MediaItemKind.Transport, Transport.Event: { Kind: TransportEventKind.Raised, Indicator: Indicator.PcrAccuracyError } e }) raised.Add(e);
        }
        try
        {
            for (var item = source.Read(); item.Kind != MediaItemKind.End; item = source.Read()) Take(item);
        }
        catch (MediaStalledException) when (sending.IsCompleted)
        {
            // the sender is done: the feed went quiet
        }
        foreach (var item in source.FinishTransport()) Take(item);
        var pcrPid = analyzer.Programs[0].PcrPid;
        return new Received(analyzer.Count(Indicator.PcrAccuracyError), raised, analyzer.Pid(pcrPid)?.Pcrs ?? 0, analyzer.Time);
    }

    private static async Task<PacedTs> Stream() => new(await File.ReadAllBytesAsync(await PcrArrivalTests.Vbr()));

    private static void AssertReceivedAndNoErrors(Received r)
    {
        // the receiver saw most of what was sent (it joins a moment late), so there was something to judge
        Assert.True(r.Seconds > Sent - 3, $"received {r.Seconds:F1} s of {Sent} s");
        Assert.Equal(0, r.Errors);
        Assert.Empty(r.Raised);
    }

    [Fact]
    public async Task Paced_variable_rate_stream_over_udp_raises_nothing()
    {
        AssertReceivedAndNoErrors(await SendAndReceiveAsync(await Stream()));
    }

    [Fact]
    public async Task Pcrs_shifted_8_ms_ahead_are_errors_on_the_pcr_pid()
    {
        var ts = await Stream();
        var shifted = new[] { 4.0, 5.0, 6.0 }.Select(ts.PcrAt).ToArray();
        foreach (var k in shifted) ts.Shift(k, 0.008);
        var r = await SendAndReceiveAsync(ts);
        // a PCR whose read happened to wait over 6 ms would hide its shift: at least one of three must show
        Assert.InRange(r.Errors, 1, shifted.Length);
        Assert.NotEmpty(r.Raised);
        Assert.All(r.Raised, e => Assert.Equal(ts.PcrPid, e.Pid));
        Assert.All(r.Raised, e => Assert.NotEqual(0, e.Program));
    }

    [Fact]
    public async Task A_sender_that_pauses_300_ms_then_bursts_raises_nothing()
    {
        AssertReceivedAndNoErrors(await SendAndReceiveAsync(await Stream(), pauseAt: 5.0, pauseSeconds: 0.3));
    }

    [Fact]
    public async Task A_sender_clock_50_ppm_fast_raises_nothing()
    {
        AssertReceivedAndNoErrors(await SendAndReceiveAsync(await Stream(), ppmFast: 50));
    }

    [Fact]
    public async Task Ten_busy_processes_on_the_receiver_raise_nothing()
    {
        // load average 10 and more on this machine's 2 cores, for as long as the stream lasts (each killed after
        // 40 s at the latest, should the test die first)
        var burners = Enumerable.Range(0, 10).Select(_ => Process.Start(new ProcessStartInfo("timeout", "40 sh -c \"while :; do :; done\"")
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        })!).ToList();
        try
        {
            AssertReceivedAndNoErrors(await SendAndReceiveAsync(await Stream()));
        }
        finally
        {
            foreach (var burner in burners)
            {
                burner.Kill(entireProcessTree: true);
                burner.Dispose();
            }
        }
    }
}

[CollectionDefinition(PcrArrivalLiveTests.Name, DisableParallelization = true)]
public sealed class PcrArrivalLiveCollection;
