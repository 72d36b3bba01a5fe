namespace Vigil.Tools.Corpus;

/// <summary>
/// Damages the video of an MPEG-TS file at known places, as a lossy network does: drops runs of
/// 188-byte packets (the demuxer then sees continuity-counter errors), garbles their payload while
/// keeping the headers intact (no continuity error: only the decoder can notice), or drops every
/// packet of one whole frame (no flag at all, only a gap in the timestamps); or, harmlessly, declares
/// wrong PES lengths (a muxer quirk of a real broadcast: the demuxer flags packets corrupt, the data is intact).
/// </summary>
public sealed class TsDamage
{
    public const int PacketSize = 188;

    private readonly byte[] _ts;
    private readonly List<int> _videoPackets = [];     // file packet index of every video packet
    private readonly List<int> _frameStarts = [];      // index into _videoPackets where each PES (frame) starts
    private readonly HashSet<int> _drop = [];
    private readonly Dictionary<int, int> _garble = []; // packet index -> seed
    private bool _mislabelLengths;

    public TsDamage(byte[] ts)
    {
        if (ts.Length % PacketSize != 0 || ts.Length == 0 || ts[0] != 0x47)
            throw new ArgumentException("not an MPEG-TS file of 188-byte packets");
        _ts = ts;
        VideoPid = FindVideoPid();
        for (var i = 0; i < ts.Length / PacketSize; i++)
        {
            if (Pid(i) != VideoPid) continue;
            if (StartsPes(i)) _frameStarts.Add(_videoPackets.Count);
            _videoPackets.Add(i);
        }
    }

    /// <summary>The PID whose PES packets carry a video stream id (0xE0–0xEF).</summary>
    public int VideoPid { get; }

    /// <summary>Video frames (PES packets) in decode order.</summary>
    public int Frames => _frameStarts.Count;

    /// <summary>Drops <paramref name="count"/> video packets starting <paramref name="offset"/> packets into frame <paramref name="frame"/>.</summary>
    public TsDamage DropPackets(int frame, int offset, int count)
    {
        foreach (var p in PacketsOf(frame, offset, count)) _drop.Add(p);
        return this;
    }

    /// <summary>Overwrites the payload of <paramref name="count"/> video packets with noise, headers kept.</summary>
    public TsDamage GarblePackets(int frame, int offset, int count, int seed)
    {
        foreach (var p in PacketsOf(frame, offset, count)) _garble[p] = seed++;
        return this;
    }

    /// <summary>Drops every packet of frame <paramref name="frame"/> (decode order).</summary>
    public TsDamage DropFrame(int frame)
    {
        var first = _frameStarts[frame];
        var end = frame + 1 < _frameStarts.Count ? _frameStarts[frame + 1] : _videoPackets.Count;
        for (var k = first; k < end; k++) _drop.Add(_videoPackets[k]);
        return this;
    }

    /// <summary>
    /// Declares every video PES 65535 bytes long, more than any frame here: FFmpeg's demuxer then logs
    /// "PES packet size mismatch" and flags each packet corrupt, though not a byte of the picture is lost
    /// (what test-072, a real broadcast, does on 293 packets).
    /// </summary>
    public TsDamage MislabelPesLengths()
    {
        _mislabelLengths = true;
        return this;
    }

    /// <summary>The damaged stream.</summary>
    public byte[] Build()
    {
        using var output = new MemoryStream(_ts.Length);
        var packet = new byte[PacketSize];
        for (var i = 0; i < _ts.Length / PacketSize; i++)
        {
            if (_drop.Contains(i)) continue;
            _ts.AsSpan(i * PacketSize, PacketSize).CopyTo(packet);
            if (_garble.TryGetValue(i, out var seed))
            {
                var random = new Random(seed);
                for (var b = PayloadOffset(packet); b < PacketSize; b++) packet[b] = (byte)random.Next(256);
            }
            if (_mislabelLengths && StartsPes(i))
            {
                var o = PayloadOffset(packet);
                if (o + 6 <= PacketSize) packet[o + 4] = packet[o + 5] = 0xFF; // PES_packet_length
            }
            output.Write(packet);
        }
        return output.ToArray();
    }

    private IEnumerable<int> PacketsOf(int frame, int offset, int count)
    {
        if (frame < 0 || frame >= _frameStarts.Count) throw new ArgumentOutOfRangeException(nameof(frame));
        var first = _frameStarts[frame] + offset;
        for (var k = first; k < Math.Min(first + count, _videoPackets.Count); k++) yield return _videoPackets[k];
    }

    private int Pid(int i) => ((_ts[i * PacketSize + 1] & 0x1f) << 8) | _ts[i * PacketSize + 2];

    private static int PayloadOffset(ReadOnlySpan<byte> packet)
    {
        var adaptation = (packet[3] >> 4) & 0x3;
        var offset = 4;
        if (adaptation is 2 or 3) offset += 1 + packet[4];
        return Math.Min(offset, PacketSize);
    }

    private bool StartsPes(int i)
    {
        var packet = _ts.AsSpan(i * PacketSize, PacketSize);
        if ((packet[1] & 0x40) == 0) return false; // payload_unit_start_indicator
        var o = PayloadOffset(packet);
        return o + 4 <= PacketSize && packet[o] == 0 && packet[o + 1] == 0 && packet[o + 2] == 1 && packet[o + 3] is >= 0xE0 and <= 0xEF;
    }

    private int FindVideoPid()
    {
        for (var i = 0; i < _ts.Length / PacketSize; i++)
            if (StartsPes(i)) return Pid(i);
        throw new ArgumentException("no video PES in the transport stream");
    }
}
