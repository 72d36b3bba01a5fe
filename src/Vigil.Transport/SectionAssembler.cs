namespace Vigil.Transport;

/// <summary>
/// Reassembles PSI/SI sections of one PID from packet payloads (ISO/IEC 13818-1, 2.4.4): a payload that
/// starts a unit begins with pointer_field, the bytes before it finish the section in progress, and
/// several sections may follow each other in one packet until 0xFF stuffing. A section is at most
/// 4096 bytes, so the buffer is fixed; a continuity error drops the section in progress.
/// </summary>
internal sealed class SectionAssembler
{
    public const int MaxSection = 4096;

    private readonly byte[] _buffer = new byte[MaxSection];
    private int _length;
    private int _expected;      // whole section length once its header is in, else 0
    private bool _active;

    /// <summary>Called with each complete section (header to CRC), valid during the call.</summary>
    public delegate void SectionHandler(ReadOnlySpan<byte> section);

    /// <summary>Drops the section in progress (its next bytes were lost).</summary>
    public void Reset() => _active = false;

    public void Push(ReadOnlySpan<byte> payload, bool unitStart, SectionHandler onSection)
    {
        if (payload.IsEmpty) return;
        if (!unitStart)
        {
            if (_active) Append(payload, onSection);
            return;
        }
        int pointer = payload[0];
        payload = payload[1..];
        if (pointer > payload.Length) { _active = false; return; }
        if (_active) Append(payload[..pointer], onSection);
        _active = false;
        payload = payload[pointer..];
        while (!payload.IsEmpty && payload[0] != 0xFF)
        {
            _active = true;
            _length = _expected = 0;
            var used = Append(payload, onSection);
            if (_active) return; // the section continues in the next packet
            payload = payload[used..];
        }
    }

    /// <summary>Appends bytes to the section in progress; returns how many it used (the rest belongs to the next section).</summary>
    private int Append(ReadOnlySpan<byte> data, SectionHandler onSection)
    {
        var used = 0;
        if (_expected == 0)
        {
            var header = Math.Min(3 - _length, data.Length);
            data[..header].CopyTo(_buffer.AsSpan(_length));
            _length += header;
            used = header;
            if (_length < 3) return used;
            _expected = 3 + (((_buffer[1] & 0x0F) << 8) | _buffer[2]);
            if (_expected > MaxSection) { _active = false; return data.Length; }
        }
        var take = Math.Min(_expected - _length, data.Length - used);
        data.Slice(used, take).CopyTo(_buffer.AsSpan(_length));
        _length += take;
        used += take;
        if (_length == _expected)
        {
            _active = false;
            onSection(_buffer.AsSpan(0, _expected));
        }
        return used;
    }
}
