namespace Vigil.Transport;

/// <summary>What the <see cref="PacketFramer"/> hands on.</summary>
internal interface IPacketReceiver
{
    /// <summary>
    /// One packet, its first 188 bytes (a 204-byte packet's Reed-Solomon bytes are dropped), that began at byte
    /// <paramref name="offset"/> of the stream (garbage between packets counts: it took its time on the wire).
    /// </summary>
    void OnPacket(ReadOnlySpan<byte> packet, long offset);

    /// <summary>A packet in sync whose sync byte is not 0x47 (TR 101 290 1.2); the packet is skipped.</summary>
    void OnSyncByteError();

    /// <summary>Sync is lost (1.1): two consecutive corrupted sync bytes.</summary>
    void OnSyncLost();

    /// <summary>Sync is (re)acquired: five consecutive sync bytes at one packet size.</summary>
    void OnSyncAcquired(int packetSize);
}

/// <summary>
/// Cuts a byte stream into transport packets of 188 or 204 bytes, with the sync hysteresis of
/// TR 101 290 1.1: sync is acquired after five consecutive correct sync bytes and lost after two
/// consecutive corrupted ones, then searched for again byte by byte. Input arrives in chunks of any
/// size; a packet split across chunks is completed in a small carry buffer, every other packet is
/// handed on in place (no copy). Datagrams may carry an RTP header (RFC 2250), which is stripped and
/// whose sequence numbers count lost datagrams.
/// </summary>
internal sealed class PacketFramer(IPacketReceiver receiver)
{
    private const int AcquireRun = 5;
    private const int LossRun = 2;
    private const int MaxPacket = 204;

    private readonly byte[] _carry = new byte[MaxPacket * 8];
    private int _carryLength;
    private long _carryOffset;  // stream offset of _carry[0]
    private long _fed;          // bytes fed so far
    private int _size;          // packet size once in sync
    private bool _inSync;
    private int _badInRow;
    private int _rtpSequence = -1;

    /// <summary>Bytes skipped while searching for sync.</summary>
    public long SkippedBytes { get; private set; }

    /// <summary>Datagrams missing by their RTP sequence numbers.</summary>
    public long RtpLostDatagrams { get; private set; }

    /// <summary>Datagrams that came with an RTP header.</summary>
    public long RtpDatagrams { get; private set; }

    /// <summary>188 or 204 once sync was found, else 0.</summary>
    public int PacketSize => _size;

    public bool InSync => _inSync;

    /// <summary>Feeds the next bytes of a stream (file, TCP, HTTP, SRT, or UDP payloads without RTP).</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        var at = _fed; // stream offset of data[0]
        _fed += data.Length;
        while (!data.IsEmpty)
        {
            if (!_inSync)
            {
                var before = data.Length;
                data = Acquire(data, at);
                at += before - data.Length;
                continue;
            }
            if (_carryLength > 0)
            {
                var take = Math.Min(_size - _carryLength, data.Length);
                data[..take].CopyTo(_carry.AsSpan(_carryLength));
                _carryLength += take;
                data = data[take..];
                at += take;
                if (_carryLength < _size) return;
                _carryLength = 0;
                if (!Packet(_carry.AsSpan(0, _size), _carryOffset)) _carryLength = _size; // sync lost: search again from this packet
                continue;
            }
            while (data.Length >= _size && Packet(data[.._size], at))
            {
                data = data[_size..];
                at += _size;
            }
            if (!_inSync) continue; // sync lost at data[0]: search from there
            data.CopyTo(_carry);
            _carryLength = data.Length;
            _carryOffset = at;
            return;
        }
    }

    /// <summary>Feeds one datagram: with an RTP header (version 2, not starting with a sync byte) its payload, else all of it.</summary>
    public void FeedDatagram(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length >= 12 && datagram[0] != TsPacket.SyncByte && (datagram[0] & 0xC0) == 0x80)
        {
            var header = 12 + 4 * (datagram[0] & 0x0F);
            if ((datagram[0] & 0x10) != 0 && datagram.Length >= header + 4)
                header += 4 + 4 * ((datagram[header + 2] << 8) | datagram[header + 3]);
            var end = datagram.Length - ((datagram[0] & 0x20) != 0 ? datagram[^1] : 0);
            if (header < end)
            {
                RtpDatagrams++;
                var sequence = (datagram[2] << 8) | datagram[3];
                if (_rtpSequence >= 0)
                {
                    var gap = (sequence - _rtpSequence - 1) & 0xFFFF;
                    if (gap < 0x8000) RtpLostDatagrams += gap; // else late or repeated: not a loss
                }
                if (_rtpSequence < 0 || ((sequence - _rtpSequence) & 0xFFFF) < 0x8000) _rtpSequence = sequence;
                Feed(datagram[header..end]);
                return;
            }
        }
        Feed(datagram);
    }

    /// <summary>Checks one packet's sync byte; false when this packet lost sync.</summary>
    private bool Packet(ReadOnlySpan<byte> packet, long offset)
    {
        if (packet[0] == TsPacket.SyncByte)
        {
            _badInRow = 0;
            receiver.OnPacket(packet[..TsPacket.Size], offset);
            return true;
        }
        receiver.OnSyncByteError();
        if (++_badInRow < LossRun) return true; // skipped, still in sync
        _inSync = false;
        receiver.OnSyncLost();
        return false;
    }

    /// <summary>Searches the carry (topped up from <paramref name="data"/>) for a run of sync bytes; returns what is left of data.</summary>
    private ReadOnlySpan<byte> Acquire(ReadOnlySpan<byte> data, long at)
    {
        if (_carryLength == 0) _carryOffset = at;
        var take = Math.Min(data.Length, _carry.Length - _carryLength);
        data[..take].CopyTo(_carry.AsSpan(_carryLength));
        _carryLength += take;
        data = data[take..];

        var (offset, size) = FindSync(_carry.AsSpan(0, _carryLength));
        if (size == 0)
        {
            // keep only the tail in which a run may still begin
            var keep = Math.Min(_carryLength, (AcquireRun - 1) * MaxPacket);
            Discard(_carryLength - keep);
            return data;
        }
        Discard(offset);
        _inSync = true;
        _size = size;
        _badInRow = 0;
        receiver.OnSyncAcquired(size);
        var position = 0;
        while (_carryLength - position >= _size && Packet(_carry.AsSpan(position, _size), _carryOffset + position)) position += _size;
        _carry.AsSpan(position, _carryLength - position).CopyTo(_carry);
        _carryLength -= position;
        _carryOffset += position;
        return data;
    }

    private void Discard(int count)
    {
        if (count <= 0) return;
        SkippedBytes += count;
        _carry.AsSpan(count, _carryLength - count).CopyTo(_carry);
        _carryLength -= count;
        _carryOffset += count;
    }

    private static (int Offset, int Size) FindSync(ReadOnlySpan<byte> data)
    {
        for (var offset = 0; offset + (AcquireRun - 1) * TsPacket.Size < data.Length; offset++)
        {
            if (data[offset] != TsPacket.SyncByte) continue;
            if (Run(data, offset, TsPacket.Size)) return (offset, TsPacket.Size);
            if (offset + (AcquireRun - 1) * MaxPacket < data.Length && Run(data, offset, MaxPacket)) return (offset, MaxPacket);
        }
        return (0, 0);
    }

    private static bool Run(ReadOnlySpan<byte> data, int offset, int size)
    {
        for (var k = 1; k < AcquireRun; k++)
            if (data[offset + k * size] != TsPacket.SyncByte) return false;
        return true;
    }
}
