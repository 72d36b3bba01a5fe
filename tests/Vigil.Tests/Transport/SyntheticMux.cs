using Vigil.Transport;

namespace Vigil.Tests.Transport;

/// <summary>What a packet of a <see cref="SyntheticMux"/> carries (for scenarios that pick packets to damage).</summary>
public enum Carries { Null, Pat, Pmt, Cat, PesStart, PesPayload }

/// <summary>One packet of a synthetic multiplex: its bytes (mutable), when the mux sent it, and what it carries.</summary>
public sealed class MuxPacket(byte[] bytes, double time, int pid, Carries carries, int program)
{
    public byte[] Bytes = bytes;
    public double Time { get; } = time;
    public int Pid { get; } = pid;
    public Carries Carries { get; } = carries;
    public int Program { get; } = program;
    public bool HasPcr => (Bytes[3] & 0x20) != 0 && Bytes[4] >= 7 && (Bytes[5] & 0x10) != 0;
    public override string ToString() => $"{Time:F4} s PID 0x{Pid:X} {Carries}";
}

/// <summary>
/// A constant-rate multiplex built packet by packet, so that every fault a scenario inserts has a known
/// time and place (ground truth by construction, as in TSDuck's test tables). One packet every
/// <see cref="PacketTime"/> (0.5 ms, 3.008 Mb/s); per programme a video PID carrying the PCR every 20 ms
/// and a PES with PTS every 40 ms, an audio PID with a PES every 24 ms; PAT and PMTs every 100 ms; null
/// packets fill the rest. Programme n (1-based) uses PMT PID 0x100·n, video 0x100·n+1, audio 0x100·n+2,
/// and a clock that starts n hours after the first programme's.
/// </summary>
public sealed class SyntheticMux
{
    public const double PacketTime = 0.0005;
    public const int VideoPesPackets = 6;

    public static int PmtPid(int n) => 0x100 * n;
    public static int VideoPid(int n) => 0x100 * n + 1;
    public static int AudioPid(int n) => 0x100 * n + 2;
    public static int ProgramNumber(int n) => 1000 + n;
    public static double ClockStart(int n) => 10 + 3600.0 * (n - 1);

    private readonly int[] _cc = new int[TsPacket.PidCount];

    public List<MuxPacket> Packets { get; } = [];

    /// <summary>Seconds of multiplex with <paramref name="programs"/> programmes.</summary>
    public SyntheticMux(double seconds, int programs = 1, bool withCat = false)
    {
        var slots = (int)Math.Round(seconds / PacketTime);
        var pending = new Queue<MuxPacket>();
        for (var slot = 0; slot < slots; slot++)
        {
            var t = slot * PacketTime;
            // everything due in this slot is queued; one packet per slot goes out, nulls fill the gaps
            if (slot % 200 == 0)
            {
                pending.Enqueue(Section(TsPacket.PatPid, Pat(programs), Carries.Pat, 0, t));
                for (var n = 1; n <= programs; n++) pending.Enqueue(Section(PmtPid(n), Pmt(n), Carries.Pmt, ProgramNumber(n), t));
                if (withCat) pending.Enqueue(Section(TsPacket.CatPid, Cat(), Carries.Cat, 0, t));
            }
            for (var n = 1; n <= programs; n++)
            {
                if (slot % 80 == 4 * n) QueuePes(pending, VideoPid(n), 0xE0, t, n, VideoPesPackets, pcr: true);
                if (slot % 48 == 4 * n + 2) QueuePes(pending, AudioPid(n), 0xC0, t, n, 2, pcr: false);
                if (slot % 40 == 4 * n && slot % 80 != 4 * n) pending.Enqueue(PcrOnly(n, t));
            }
            var packet = pending.Count > 0 ? pending.Dequeue() : Null(t);
            Packets.Add(Retime(packet, t));
        }
    }

    /// <summary>The stream as bytes.</summary>
    public byte[] Build(IEnumerable<MuxPacket>? packets = null)
    {
        var list = (packets ?? Packets).ToList();
        var bytes = new byte[list.Count * TsPacket.Size];
        for (var i = 0; i < list.Count; i++) list[i].Bytes.CopyTo(bytes, i * TsPacket.Size);
        return bytes;
    }

    /// <summary>Transport time (the analyser's clock, which starts at the first PCR) of mux time <paramref name="t"/>.</summary>
    public double TransportTime(double t) => t - Packets.First(p => p.HasPcr).Time;

    /// <summary>The PCR value (27 MHz) programme n's clock shows at mux time t.</summary>
    public static long PcrAt(int n, double t) => (long)Math.Round((ClockStart(n) + t) * TsPacket.ClockHz);

    /// <summary>Rewrites a packet's PCR (if it has one) to the value of the slot it finally went out in: constant rate.</summary>
    private static MuxPacket Retime(MuxPacket p, double t)
    {
        var bytes = p.Bytes;
        if (p.HasPcr) WritePcr(bytes, PcrAt(p.Program - 1000, t));
        return new MuxPacket(bytes, t, p.Pid, p.Carries, p.Program);
    }

    public static void WritePcr(byte[] packet, long pcr)
    {
        var b = pcr / 300;
        var ext = pcr % 300;
        packet[6] = (byte)(b >> 25);
        packet[7] = (byte)(b >> 17);
        packet[8] = (byte)(b >> 9);
        packet[9] = (byte)(b >> 1);
        packet[10] = (byte)(((b & 1) << 7) | 0x7E | (ext >> 8));
        packet[11] = (byte)ext;
    }

    private void QueuePes(Queue<MuxPacket> queue, int pid, byte streamId, double t, int n, int packets, bool pcr)
    {
        var pts = (long)Math.Round((ClockStart(n) + t + 0.1) * 90_000) % TsPacket.PtsWrap;
        for (var k = 0; k < packets; k++)
        {
            var withPcr = pcr && k == 0;
            var p = Header(pid, unitStart: k == 0, adaptation: withPcr ? 7 : 0);
            var o = withPcr ? 12 : 4;
            if (k == 0)
            {
                byte[] header = [0, 0, 1, streamId, 0, 0, 0x80, 0x80, 5, 0, 0, 0, 0, 0];
                WriteTimestamp(header.AsSpan(9), 0x21, pts);
                header.CopyTo(p, o);
                o += header.Length;
            }
            for (var i = o; i < TsPacket.Size; i++) p[i] = (byte)(i * 7 + k);
            queue.Enqueue(new MuxPacket(p, t, pid, k == 0 ? Carries.PesStart : Carries.PesPayload, ProgramNumber(n)));
        }
    }

    public static void WriteTimestamp(Span<byte> t, int prefix, long value)
    {
        t[0] = (byte)(prefix | (int)((value >> 29) & 0x0E) | 1);
        t[1] = (byte)(value >> 22);
        t[2] = (byte)(((value >> 14) & 0xFE) | 1);
        t[3] = (byte)(value >> 7);
        t[4] = (byte)(((value << 1) & 0xFE) | 1);
    }

    /// <summary>An adaptation-only packet with a PCR between two PES starts (PCR every 20 ms).</summary>
    private MuxPacket PcrOnly(int n, double t)
    {
        var p = new byte[TsPacket.Size];
        p[0] = TsPacket.SyncByte;
        p[1] = (byte)(VideoPid(n) >> 8);
        p[2] = (byte)VideoPid(n);
        p[3] = (byte)(0x20 | ((_cc[VideoPid(n)] + 15) & 0x0F)); // adaptation only: repeats the last counter
        p[4] = 183;
        p[5] = 0x10;
        for (var i = 12; i < TsPacket.Size; i++) p[i] = 0xFF;
        return new MuxPacket(p, t, VideoPid(n), Carries.PesPayload, ProgramNumber(n));
    }

    private byte[] Header(int pid, bool unitStart, int adaptation)
    {
        var p = new byte[TsPacket.Size];
        p[0] = TsPacket.SyncByte;
        p[1] = (byte)((unitStart ? 0x40 : 0) | (pid >> 8));
        p[2] = (byte)pid;
        p[3] = (byte)((adaptation > 0 ? 0x30 : 0x10) | _cc[pid]);
        _cc[pid] = (_cc[pid] + 1) & 0x0F;
        if (adaptation > 0)
        {
            p[4] = (byte)adaptation;
            p[5] = 0x10; // PCR flag; the value is written when the packet's slot is known
        }
        return p;
    }

    public static MuxPacket Null(double t)
    {
        var p = new byte[TsPacket.Size];
        p[0] = TsPacket.SyncByte;
        p[1] = 0x1F;
        p[2] = 0xFF;
        p[3] = 0x10;
        return new MuxPacket(p, t, TsPacket.NullPid, Carries.Null, 0);
    }

    private MuxPacket Section(int pid, byte[] section, Carries carries, int program, double t)
    {
        var p = Header(pid, unitStart: true, adaptation: 0);
        p[4] = 0; // pointer_field
        section.CopyTo(p, 5);
        for (var i = 5 + section.Length; i < TsPacket.Size; i++) p[i] = 0xFF;
        return new MuxPacket(p, t, pid, carries, program);
    }

    public static byte[] Pat(int programs)
    {
        var body = new List<byte> { 0, 1, 0xC1, 0, 0 }; // transport_stream_id 1, version 0, current, section 0 of 0
        for (var n = 1; n <= programs; n++)
            body.AddRange([(byte)(ProgramNumber(n) >> 8), (byte)ProgramNumber(n), (byte)(0xE0 | (PmtPid(n) >> 8)), (byte)PmtPid(n)]);
        return LongSection(0x00, body);
    }

    public static byte[] Pmt(int n, int version = 0, bool withAudio = true)
    {
        var body = new List<byte>
        {
            (byte)(ProgramNumber(n) >> 8), (byte)ProgramNumber(n), (byte)(0xC1 | (version << 1)), 0, 0,
            (byte)(0xE0 | (VideoPid(n) >> 8)), (byte)VideoPid(n), 0xF0, 0,
            0x1B, (byte)(0xE0 | (VideoPid(n) >> 8)), (byte)VideoPid(n), 0xF0, 0,
        };
        if (withAudio) body.AddRange([0x03, (byte)(0xE0 | (AudioPid(n) >> 8)), (byte)AudioPid(n), 0xF0, 0]);
        return LongSection(0x02, body);
    }

    private static byte[] Cat() => LongSection(0x01, [0xFF, 0xFF, 0xC1, 0, 0]);

    /// <summary>table_id, section_length, the body, CRC_32.</summary>
    public static byte[] LongSection(byte table, IEnumerable<byte> body)
    {
        var b = body.ToList();
        var length = b.Count + 4;
        var section = new List<byte> { table, (byte)(0xB0 | (length >> 8)), (byte)length };
        section.AddRange(b);
        var crc = Crc32Mpeg.Compute(section.ToArray());
        section.AddRange([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
        return section.ToArray();
    }

    /// <summary>A section in one packet on <paramref name="pid"/> with the next counter value (for scenarios that add tables).</summary>
    public MuxPacket SectionPacket(int pid, byte[] section, double t, int program = 0) => Section(pid, section, Carries.Pmt, program, t);

    /// <summary>The next continuity counter on a PID as the builder would write it (for inserted packets).</summary>
    public int NextCc(int pid) => _cc[pid];
}
