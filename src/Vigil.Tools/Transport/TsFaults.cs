using Vigil.Transport;

namespace Vigil.Tools.Transport;

/// <summary>
/// Known faults written into a real MPEG-TS file of 188-byte packets (ffmpeg's), byte by byte, each at a
/// chosen time and PID, for tests whose ground truth is the fault itself: packets lost, duplicated or
/// reordered; PAT or PMT sections the mux never sent; CRC bytes flipped; PCRs or PTS left out; a PID that
/// stops. Times are the mux's (seconds from the first PCR, as the analyser counts them), read from the
/// PCRs of the first PCR PID with the packets in between interpolated; every fault keeps the stream's byte
/// positions, so nothing but the fault changes (a removed packet becomes a null packet).
/// </summary>
public sealed class TsFaults
{
    private readonly List<byte[]> _packets = [];
    private readonly double[] _time;

    public TsFaults(byte[] ts)
    {
        if (ts.Length % TsPacket.Size != 0 || ts.Length == 0 || ts[0] != TsPacket.SyncByte)
            throw new ArgumentException("not an MPEG-TS file of 188-byte packets");
        for (var i = 0; i < ts.Length; i += TsPacket.Size) _packets.Add(ts.AsSpan(i, TsPacket.Size).ToArray());
        _time = PacketTimes();
        PatPmt();
    }

    /// <summary>The PID of the first programme's PMT, video and audio, and its PCR PID (from the PAT and PMT).</summary>
    public int PmtPid { get; private set; } = -1;
    public int VideoPid { get; private set; } = -1;
    public int AudioPid { get; private set; } = -1;
    public int PcrPid { get; private set; } = -1;

    /// <summary>Packets in the stream.</summary>
    public int Count => _packets.Count;

    /// <summary>Mux time of packet <paramref name="index"/>.</summary>
    public double TimeOf(int index) => _time[index];

    /// <summary>
    /// Mux time <paramref name="muxTime"/> as media time (seconds from the first PTS of the audio and video, as
    /// the decoded items are stamped): the programme clock then, less the first PTS. A mux sends pictures ahead of
    /// their presentation (ffmpeg: 0.7 s), so the transport fails earlier in media time than the pictures it carries.
    /// </summary>
    public double MediaTimeOf(double muxTime)
    {
        long? firstPcr = null, firstPts = null;
        foreach (var p in _packets)
        {
            if (firstPcr is null && HasPcr(p)) firstPcr = TsPacket.Pcr(p);
            if ((Pid(p) == VideoPid || Pid(p) == AudioPid) && (p[1] & 0x40) != 0)
            {
                var o = TsPacket.PayloadOffset(p);
                if (o + 14 <= TsPacket.Size && p[o] == 0 && p[o + 1] == 0 && p[o + 2] == 1 && (p[o + 7] & 0x80) != 0)
                {
                    var pts = TsPacket.Timestamp(p.AsSpan(o + 9));
                    if (firstPts is null || pts < firstPts) firstPts = pts;
                }
            }
        }
        if (firstPcr is null || firstPts is null) throw new InvalidOperationException("no PCR or no PTS");
        return muxTime + firstPcr.Value / TsPacket.ClockHz - firstPts.Value / 90_000.0;
    }

    /// <summary>Mux time of the first packet of <paramref name="pid"/> from <paramref name="at"/> s that carries payload.</summary>
    public double TimeOfFirst(int pid, double at) => _time[First(at, p => Pid(p) == pid && HasPayload(p))];

    /// <summary>Mux time of the last packet of <paramref name="pid"/>.</summary>
    public double TimeOfLast(int pid)
    {
        for (var i = _packets.Count - 1; i >= 0; i--)
            if (Pid(_packets[i]) == pid) return _time[i];
        throw new InvalidOperationException($"no packet of PID {pid}");
    }

    /// <summary>Loses <paramref name="count"/> consecutive payload packets of <paramref name="pid"/> from <paramref name="at"/> s (one continuity error).</summary>
    public TsFaults Lose(int pid, double at, int count)
    {
        var lost = 0;
        for (var i = First(at, p => Pid(p) == pid && HasPayload(p)); lost < count; i++)
            if (Pid(_packets[i]) == pid && HasPayload(_packets[i])) { _packets[i] = Null(); lost++; }
        return this;
    }

    /// <summary>Sends a payload packet of <paramref name="pid"/> from <paramref name="at"/> s <paramref name="times"/> times in a row on its PID (in null slots after it).</summary>
    public TsFaults Repeat(int pid, double at, int times)
    {
        // a packet followed by null packets before its PID's next one, so that the copies follow it on the PID
        for (var i = First(at, p => Pid(p) == pid && HasPayload(p)); i < _packets.Count; i++)
        {
            if (Pid(_packets[i]) != pid || !HasPayload(_packets[i])) continue;
            var slots = new List<int>();
            for (var k = i + 1; k < _packets.Count && slots.Count < times - 1 && Pid(_packets[k]) != pid; k++)
                if (Pid(_packets[k]) == TsPacket.NullPid) slots.Add(k);
            if (slots.Count < times - 1) continue;
            foreach (var k in slots) _packets[k] = (byte[])_packets[i].Clone();
            return this;
        }
        throw new InvalidOperationException($"no packet of PID {pid} after {at} s with room to repeat it");
    }

    /// <summary>Swaps the first two payload packets of <paramref name="pid"/> from <paramref name="at"/> s (three steps out of order: n, n+2, n+1, n+3).</summary>
    public TsFaults Swap(int pid, double at)
    {
        var a = First(at, p => Pid(p) == pid && HasPayload(p));
        var b = a + 1;
        while (Pid(_packets[b]) != pid || !HasPayload(_packets[b])) b++;
        (_packets[a], _packets[b]) = (_packets[b], _packets[a]);
        return this;
    }

    /// <summary>Packets of <paramref name="pid"/> from <paramref name="from"/> s for <paramref name="seconds"/> never sent (their counters renumbered after).</summary>
    public TsFaults Omit(int pid, double from, double seconds)
    {
        var shift = 0;
        for (var i = 0; i < _packets.Count; i++)
        {
            var p = _packets[i];
            if (Pid(p) != pid) continue;
            if (_time[i] >= from && _time[i] < from + seconds)
            {
                if (HasPayload(p)) shift++;
                _packets[i] = Null();
            }
            else if (shift > 0)
            {
                p[3] = (byte)((p[3] & 0xF0) | (((p[3] & 0x0F) - shift) & 0x0F));
            }
        }
        return this;
    }

    /// <summary>Flips a bit of the CRC_32 of the first section starting on <paramref name="pid"/> after <paramref name="at"/> s.</summary>
    public TsFaults FlipCrc(int pid, double at)
    {
        var p = _packets[First(at, p => Pid(p) == pid && (p[1] & 0x40) != 0)];
        var start = TsPacket.PayloadOffset(p) + 1 + p[TsPacket.PayloadOffset(p)];
        var length = 3 + (((p[start + 1] & 0x0F) << 8) | p[start + 2]);
        p[start + length - 1] ^= 0x01;
        return this;
    }

    /// <summary>Leaves out the PCRs after the first one from <paramref name="from"/> s, up to the one at least <paramref name="gap"/> s later.</summary>
    public TsFaults PcrGap(double from, double gap)
    {
        var first = First(from, HasPcr);
        var firstPcr = TsPacket.Pcr(_packets[first]);
        for (var i = first + 1; i < _packets.Count; i++)
        {
            if (!HasPcr(_packets[i])) continue;
            if ((TsPacket.Pcr(_packets[i]) - firstPcr) / TsPacket.ClockHz >= gap - 1e-6) break;
            _packets[i][5] &= 0xEF; // the adaptation field stays, as stuffing
        }
        return this;
    }

    /// <summary>The PTS of <paramref name="pid"/>'s PES headers left out from <paramref name="from"/> s for <paramref name="seconds"/> (made stuffing bytes).</summary>
    public TsFaults PtsGap(int pid, double from, double seconds)
    {
        for (var i = 0; i < _packets.Count; i++)
        {
            var p = _packets[i];
            if (Pid(p) != pid || (p[1] & 0x40) == 0 || _time[i] < from || _time[i] >= from + seconds) continue;
            var o = TsPacket.PayloadOffset(p);
            if (o + 19 > TsPacket.Size || p[o] != 0 || p[o + 1] != 0 || p[o + 2] != 1 || (p[o + 7] & 0x80) == 0) continue;
            var stamps = (p[o + 7] & 0x40) != 0 ? 10 : 5; // PTS, or PTS and DTS
            p[o + 7] &= 0x3F;
            for (var k = 0; k < stamps; k++) p[o + 9 + k] = 0xFF;
        }
        return this;
    }

    /// <summary>Every packet of <paramref name="pid"/> from <paramref name="at"/> s on never sent.</summary>
    public TsFaults Stop(int pid, double at) => Omit(pid, at, double.PositiveInfinity);

    /// <summary>The damaged stream.</summary>
    public byte[] Build()
    {
        var bytes = new byte[_packets.Count * TsPacket.Size];
        for (var i = 0; i < _packets.Count; i++) _packets[i].CopyTo(bytes, i * TsPacket.Size);
        return bytes;
    }

    private int First(double at, Func<byte[], bool> which)
    {
        for (var i = 0; i < _packets.Count; i++)
            if (_time[i] >= at && which(_packets[i])) return i;
        throw new InvalidOperationException($"no such packet after {at} s");
    }

    private static int Pid(byte[] p) => TsPacket.Pid(p);
    private static bool HasPayload(byte[] p) => (TsPacket.AdaptationFieldControl(p) & 1) != 0;
    private bool HasPcr(byte[] p) => Pid(p) == PcrPid && TsPacket.Pcr(p) >= 0;

    private static byte[] Null()
    {
        var p = new byte[TsPacket.Size];
        p[0] = TsPacket.SyncByte;
        p[1] = 0x1F;
        p[2] = 0xFF;
        p[3] = 0x10;
        return p;
    }

    /// <summary>Each packet's mux time: the PCRs of the first PCR PID, byte positions interpolated between them.</summary>
    private double[] PacketTimes()
    {
        var pcrs = new List<(int Index, long Pcr)>();
        var pid = -1;
        for (var i = 0; i < _packets.Count; i++)
        {
            var pcr = TsPacket.Pcr(_packets[i]);
            if (pcr < 0 || (pid >= 0 && Pid(_packets[i]) != pid)) continue;
            pid = Pid(_packets[i]);
            pcrs.Add((i, pcr));
        }
        if (pcrs.Count < 2) throw new ArgumentException("fewer than two PCRs");
        var times = new double[_packets.Count];
        var k = 0;
        for (var i = 0; i < times.Length; i++)
        {
            while (k + 2 < pcrs.Count && pcrs[k + 1].Index <= i) k++;
            var (a, b) = (pcrs[k], pcrs[k + 1]);
            var rate = (b.Pcr - a.Pcr) / (double)(b.Index - a.Index); // ticks per packet
            times[i] = (a.Pcr + (i - a.Index) * rate - pcrs[0].Pcr) / TsPacket.ClockHz;
        }
        return times;
    }

    /// <summary>The first programme's PIDs, from the first PAT and its PMT.</summary>
    private void PatPmt()
    {
        foreach (var p in _packets)
        {
            if ((p[1] & 0x40) == 0) continue;
            var s = TsPacket.PayloadOffset(p) + 1 + p[TsPacket.PayloadOffset(p)];
            if (Pid(p) == TsPacket.PatPid && PmtPid < 0 && p[s] == 0x00)
            {
                for (var e = s + 8; e + 4 <= s + 3 + (((p[s + 1] & 0x0F) << 8) | p[s + 2]) - 4; e += 4)
                    if (((p[e] << 8) | p[e + 1]) != 0) { PmtPid = ((p[e + 2] & 0x1F) << 8) | p[e + 3]; break; }
            }
            else if (Pid(p) == PmtPid && p[s] == 0x02 && PcrPid < 0)
            {
                PcrPid = ((p[s + 8] & 0x1F) << 8) | p[s + 9];
                var end = s + 3 + (((p[s + 1] & 0x0F) << 8) | p[s + 2]) - 4;
                for (var e = s + 12 + (((p[s + 10] & 0x0F) << 8) | p[s + 11]); e + 5 <= end; e += 5 + (((p[e + 3] & 0x0F) << 8) | p[e + 4]))
                {
                    var pid = ((p[e + 1] & 0x1F) << 8) | p[e + 2];
                    if (p[e] is 0x1B or 0x02 or 0x24 && VideoPid < 0) VideoPid = pid;
                    else if (p[e] is 0x0F or 0x03 or 0x04 or 0x11 && AudioPid < 0) AudioPid = pid;
                }
                return;
            }
        }
    }
}
