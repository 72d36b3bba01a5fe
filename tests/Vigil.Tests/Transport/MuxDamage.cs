using Vigil.Transport;

namespace Vigil.Tests.Transport;

/// <summary>Byte-level faults on a <see cref="SyntheticMux"/>'s packets, each at a known place and time.</summary>
public static class MuxDamage
{
    /// <summary>Packets lost on the way: replaced by null packets (the mux timing stays, the counters jump).</summary>
    public static int Lose(this SyntheticMux mux, Func<MuxPacket, bool> which)
    {
        var n = 0;
        for (var i = 0; i < mux.Packets.Count; i++)
            if (which(mux.Packets[i])) { mux.Packets[i] = SyntheticMux.Null(mux.Packets[i].Time); n++; }
        return n;
    }

    /// <summary>Packets the mux never sent: replaced by null packets, and later counters on their PIDs renumbered.</summary>
    public static int Omit(this SyntheticMux mux, Func<MuxPacket, bool> which)
    {
        var shift = new int[TsPacket.PidCount];
        var n = 0;
        for (var i = 0; i < mux.Packets.Count; i++)
        {
            var p = mux.Packets[i];
            if (p.Pid == TsPacket.NullPid) continue;
            if (which(p))
            {
                if ((p.Bytes[3] & 0x10) != 0) shift[p.Pid]++;
                mux.Packets[i] = SyntheticMux.Null(p.Time);
                n++;
            }
            else if (shift[p.Pid] != 0)
            {
                SetCc(p, (p.Bytes[3] & 0x0F) - shift[p.Pid]);
            }
        }
        return n;
    }

    public static void SetCc(MuxPacket p, int cc) => p.Bytes[3] = (byte)((p.Bytes[3] & 0xF0) | (cc & 0x0F));

    /// <summary>Index of the first packet matching, from <paramref name="time"/> on.</summary>
    public static int Find(this SyntheticMux mux, double time, Func<MuxPacket, bool> which) =>
        mux.Packets.FindIndex(p => p.Time >= time - 1e-9 && which(p));

    /// <summary>Copies packet <paramref name="index"/> over the next null packet(s): on its PID it then repeats.</summary>
    public static void Repeat(this SyntheticMux mux, int index, int copies)
    {
        for (int i = index + 1, made = 0; made < copies; i++)
        {
            if (mux.Packets[i].Pid != TsPacket.NullPid) continue;
            var p = mux.Packets[index];
            mux.Packets[i] = new MuxPacket((byte[])p.Bytes.Clone(), mux.Packets[i].Time, p.Pid, p.Carries, p.Program);
            made++;
        }
    }

    /// <summary>Swaps the contents of two packet slots (times stay with the slots).</summary>
    public static void Swap(this SyntheticMux mux, int a, int b) => (mux.Packets[a].Bytes, mux.Packets[b].Bytes) = (mux.Packets[b].Bytes, mux.Packets[a].Bytes);

    /// <summary>Clears the PCR flag of a packet (its adaptation field stays, as stuffing).</summary>
    public static void StripPcr(MuxPacket p) => p.Bytes[5] &= 0xEF;

    /// <summary>Removes the PTS of a PES start, keeping the header's length (the five bytes become stuffing).</summary>
    public static void StripPts(MuxPacket p)
    {
        var o = TsPacket.PayloadOffset(p.Bytes);
        p.Bytes[o + 7] &= 0x3F;
        for (var k = 9; k < 14; k++) p.Bytes[o + k] = 0xFF;
    }

    public static long ReadPcr(MuxPacket p) => TsPacket.Pcr(p.Bytes);

    /// <summary>Each packet followed by 16 bytes (the Reed-Solomon parity of a 204-byte packet).</summary>
    public static byte[] To204(byte[] ts)
    {
        var output = new byte[ts.Length / 188 * 204];
        for (int i = 0, o = 0; i < ts.Length; i += 188, o += 204)
        {
            ts.AsSpan(i, 188).CopyTo(output.AsSpan(o));
            for (var k = 188; k < 204; k++) output[o + k] = (byte)(k * 13);
        }
        return output;
    }

    /// <summary>RTP datagrams (RFC 2250: version 2, payload type 33) of <paramref name="perDatagram"/> packets each.</summary>
    public static List<byte[]> ToRtp(byte[] ts, int perDatagram = 7)
    {
        var datagrams = new List<byte[]>();
        var sequence = 65530; // wraps early in the stream
        for (var i = 0; i < ts.Length; i += perDatagram * 188)
        {
            var n = Math.Min(perDatagram * 188, ts.Length - i);
            var d = new byte[12 + n];
            d[0] = 0x80;
            d[1] = 33;
            d[2] = (byte)(sequence >> 8);
            d[3] = (byte)sequence;
            ts.AsSpan(i, n).CopyTo(d.AsSpan(12));
            datagrams.Add(d);
            sequence = (sequence + 1) & 0xFFFF;
        }
        return datagrams;
    }
}
