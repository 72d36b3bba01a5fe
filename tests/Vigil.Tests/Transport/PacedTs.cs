using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Vigil.Transport;

namespace Vigil.Tests.Transport;

/// <summary>
/// A transport stream as a live sender puts it on the wire: datagrams of 7 packets; one that carries a PCR
/// leaves at that PCR's time, any other when its last packet is due (packets between two PCRs interpolated by
/// position, as a mux paces them), so no PCR ever leaves early or late. The ground truth of the PCR accuracy tests: <see cref="Shift"/> rewrites PCR
/// values in the bytes while the send times stay those of the true clock; the <c>Arrivals</c> models give
/// the deterministic receive times of a clean path, a loaded reader, a sender's pause, a fast sender clock;
/// <see cref="SendAsync"/> paces the datagrams over loopback UDP in real time.
/// </summary>
public sealed class PacedTs
{
    public const int PacketsPerDatagram = 7;

    private readonly byte[] _bytes;
    private readonly double[] _sendTime; // per datagram, seconds from the first PCR

    public PacedTs(byte[] bytes)
    {
        _bytes = bytes.ToArray();
        var packets = _bytes.Length / TsPacket.Size;
        var pcrs = new List<(int Index, double Seconds)>();
        for (var i = 0; i < packets; i++)
            if (TsPacket.Pcr(Packet(i)) is >= 0 and var pcr && (pcrs.Count == 0 || PcrPidOf(i) == PcrPid))
            {
                if (pcrs.Count == 0) PcrPid = TsPacket.Pid(Packet(i));
                pcrs.Add((i, pcr / TsPacket.ClockHz));
            }
        if (pcrs.Count < 2) throw new InvalidOperationException("fewer than two PCRs");
        Pcrs = pcrs.Select(p => p.Index).ToArray();
        var times = new double[packets];
        for (int i = 0, k = 0; i < packets; i++)
        {
            while (k + 2 < pcrs.Count && pcrs[k + 1].Index <= i) k++;
            var (i0, t0) = pcrs[k];
            var (i1, t1) = pcrs[k + 1];
            times[i] = Math.Max(0, t0 + (i - i0) * (t1 - t0) / (i1 - i0) - pcrs[0].Seconds);
        }
        // a datagram that carries a PCR leaves at that PCR's time (the later of two); any other when its last packet
        // is due, but never after the next PCR's datagram
        _sendTime = new double[(packets + PacketsPerDatagram - 1) / PacketsPerDatagram];
        var carriesPcr = new bool[_sendTime.Length];
        for (var d = 0; d < _sendTime.Length; d++) _sendTime[d] = times[Math.Min(packets, (d + 1) * PacketsPerDatagram) - 1];
        foreach (var (index, seconds) in pcrs)
        {
            var d = index / PacketsPerDatagram;
            _sendTime[d] = carriesPcr[d] ? Math.Max(_sendTime[d], seconds - pcrs[0].Seconds) : seconds - pcrs[0].Seconds;
            carriesPcr[d] = true;
        }
        for (var d = _sendTime.Length - 2; d >= 0; d--)
            if (!carriesPcr[d]) _sendTime[d] = Math.Min(_sendTime[d], _sendTime[d + 1]);
        for (var d = 1; d < _sendTime.Length; d++) _sendTime[d] = Math.Max(_sendTime[d], _sendTime[d - 1]);
    }

    /// <summary>The PID of the first PCR: the programme's PCR PID in a single-programme stream.</summary>
    public int PcrPid { get; }

    /// <summary>Packet indices of the PCRs on <see cref="PcrPid"/>.</summary>
    public int[] Pcrs { get; }

    public int Datagrams => _sendTime.Length;

    /// <summary>Seconds (from the first PCR) at which datagram <paramref name="d"/> goes out.</summary>
    public double SendTime(int d) => _sendTime[d];

    public ReadOnlySpan<byte> Datagram(int d) =>
        _bytes.AsSpan(d * PacketsPerDatagram * TsPacket.Size, Math.Min(PacketsPerDatagram * TsPacket.Size, _bytes.Length - d * PacketsPerDatagram * TsPacket.Size));

    private Span<byte> Packet(int i) => _bytes.AsSpan(i * TsPacket.Size, TsPacket.Size);

    private int PcrPidOf(int i) => TsPacket.Pid(Packet(i));

    /// <summary>The transport time (seconds from the first PCR) of PCR number <paramref name="k"/>.</summary>
    public double PcrTime(int k) => (TsPacket.Pcr(Packet(Pcrs[k])) - TsPacket.Pcr(Packet(Pcrs[0]))) / TsPacket.ClockHz;

    /// <summary>The first PCR at or after <paramref name="seconds"/> of transport time.</summary>
    public int PcrAt(double seconds) => Enumerable.Range(0, Pcrs.Length).First(k => PcrTime(k) >= seconds);

    /// <summary>Rewrites PCR number <paramref name="k"/> by <paramref name="seconds"/> (positive: ahead of its bytes); the send times stay.</summary>
    public void Shift(int k, double seconds)
    {
        var p = Packet(Pcrs[k]);
        var pcr = TsPacket.Pcr(p) + (long)Math.Round(seconds * TsPacket.ClockHz);
        var b = pcr / 300;
        var ext = pcr % 300;
        p[6] = (byte)(b >> 25);
        p[7] = (byte)(b >> 17);
        p[8] = (byte)(b >> 9);
        p[9] = (byte)(b >> 1);
        p[10] = (byte)(((b & 1) << 7) | 0x7E | (ext >> 8));
        p[11] = (byte)ext;
    }

    /// <summary>Feeds every datagram to a fresh analyser with the arrival times of <paramref name="arrivals"/> (seconds), then finishes.</summary>
    public TransportRun Receive(Func<int, double, double> arrivals, TransportOptions? options = null)
    {
        var run = new TransportRun(options);
        var last = double.NegativeInfinity;
        for (var d = 0; d < Datagrams; d++)
        {
            // a receiver's queue keeps the order: nothing arrives before what was sent ahead of it
            last = Math.Max(last, arrivals(d, SendTime(d)));
            run.Analyzer.FeedDatagram(Datagram(d), 5_000_000_000L + (long)Math.Round(last * 1e9));
        }
        run.Analyzer.Finish();
        return run;
    }

    /// <summary>
    /// Sends the datagrams to 127.0.0.1:<paramref name="port"/> at their times (a sender whose clock runs
    /// <paramref name="ppmFast"/> fast sends each that much early), pausing <paramref name="pauseSeconds"/> at
    /// transport time <paramref name="pauseAt"/> and then sending what piled up at once, until
    /// <paramref name="seconds"/> of transport time or <paramref name="stop"/>. Bounded by the stream's length.
    /// </summary>
    public Task SendAsync(int port, double seconds, CancellationToken stop, double ppmFast = 0, double pauseAt = double.PositiveInfinity, double pauseSeconds = 0) =>
        Task.Factory.StartNew(() =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var target = new IPEndPoint(IPAddress.Loopback, port);
            var clock = Stopwatch.StartNew();
            var scale = 1 - ppmFast * 1e-6;
            for (var d = 0; d < Datagrams && SendTime(d) <= seconds && !stop.IsCancellationRequested; d++)
            {
                var at = SendTime(d) >= pauseAt ? Math.Max(SendTime(d), pauseAt + pauseSeconds) : SendTime(d);
                at *= scale;
                while (clock.Elapsed.TotalSeconds < at && !stop.IsCancellationRequested)
                {
                    var ahead = at - clock.Elapsed.TotalSeconds;
                    if (ahead > 0.002) Thread.Sleep(1);
                    else Thread.SpinWait(50);
                }
                socket.SendTo(Datagram(d), target);
            }
        }, stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
