namespace Vigil.Transport;

/// <summary>What an elementary stream carries, from its PMT stream_type and descriptors.</summary>
public enum StreamKind { Other, Video, Audio }

/// <summary>One elementary stream of a programme, as its PMT lists it.</summary>
public readonly record struct ElementaryStream(int Pid, int StreamType, StreamKind Kind);

/// <summary>
/// A programme (service) of the multiplex: its PAT entry, its PMT, and its name from the SDT. TV when it
/// has a video stream, radio when it has audio only.
/// </summary>
public sealed class TransportProgram
{
    internal TransportProgram(int number, int pmtPid)
    {
        Number = number;
        PmtPid = pmtPid;
    }

    /// <summary>program_number, which DVB calls the service id.</summary>
    public int Number { get; }

    public int PmtPid { get; internal set; }

    /// <summary>The PCR PID from the PMT; 0x1FFF when the programme declares none.</summary>
    public int PcrPid { get; internal set; } = TsPacket.NullPid;

    /// <summary>From the SDT's service descriptor, when the multiplex carries one.</summary>
    public string? ServiceName { get; internal set; }

    public string? ProviderName { get; internal set; }

    /// <summary>Streams in PMT order; empty until the PMT was seen.</summary>
    public IReadOnlyList<ElementaryStream> Streams { get; internal set; } = [];

    public bool HasPmt => PmtVersion >= 0;

    public bool IsTelevision => Streams.Any(s => s.Kind == StreamKind.Video);

    public bool IsRadio => !IsTelevision && Streams.Any(s => s.Kind == StreamKind.Audio);

    /// <summary>Failures per indicator on this programme's PMT and PIDs (indexed by <see cref="Indicator"/>).</summary>
    public IReadOnlyList<long> Counts => _counts;

    internal readonly long[] _counts = new long[Indicators.Count];
    internal int PmtVersion = -1;
    internal Deadline? PmtDeadline;

    public override string ToString() => $"programme {Number} ({ServiceName ?? "unnamed"}), PMT 0x{PmtPid:X}, PCR 0x{PcrPid:X}";
}
