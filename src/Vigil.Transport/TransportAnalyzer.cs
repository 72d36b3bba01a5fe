using System.Runtime.CompilerServices;

namespace Vigil.Transport;

/// <summary>
/// An MPEG-TS analyser over raw bytes: ETSI TR 101 290 priority 1 and 2 per PID and programme, the
/// programmes of the multiplex (PAT, PMT, SDT), and per-PID counts. Feed it the bytes the demuxer reads,
/// in order (<see cref="Feed"/>, or <see cref="FeedDatagram"/> for UDP/RTP datagrams); it reports raise
/// and clear of each indicator to its <see cref="ITransportEventSink"/> as they happen, on the feeding
/// thread. Intervals are measured in transport time (<see cref="Time"/>, from PCRs and byte positions),
/// so the same bytes always give the same answer. Bytes fed with their arrival time (a live input) also have
/// their PCRs judged against it (2.4, <see cref="PcrArrival"/>); bytes fed without (a file) never. A packet costs a few field reads and one array lookup;
/// nothing is allocated per packet (state is per PID, created once).
/// </summary>
public sealed class TransportAnalyzer : IPacketReceiver
{
    /// <summary>Deadlines and clears are checked this often (transport time); failures keep their exact times.</summary>
    private const double ScanPeriod = 0.010;

    private readonly TransportOptions _options;
    private readonly ITransportEventSink _sink;
    private readonly PacketFramer _framer;
    private readonly IndicatorTracker _tracker;
    private readonly MuxClock _clock = new();
    private readonly PidState?[] _pids = new PidState?[TsPacket.PidCount];
    private readonly List<TransportProgram> _programs = [];
    private readonly Dictionary<int, TransportProgram> _programsByNumber = [];
    private readonly Deadline _pat;
    private readonly SectionAssembler.SectionHandler _onSection;
    private readonly long _pcrAccuracyTicks;
    private readonly long _pcrMaxStepTicks;
    private PidState? _sectionPid;
    private double _now;
    private double _nextScan;
    private bool _everSynced, _syncLost;
    private int _patVersion = -1;
    private bool _catSeen, _catMissing;
    private double _lastScrambled;
    private double _lastNull = double.NegativeInfinity;
    private long _arrivalOrigin = NoArrival; // nanoseconds of the first arrival time fed
    private double _arrival = double.NaN;    // seconds since it, of the bytes being fed; NaN: none (a file)

    /// <summary>Bytes fed without an arrival time (a file): PCR accuracy is judged from the mux rate alone.</summary>
    public const long NoArrival = long.MinValue;

    public TransportAnalyzer(ITransportEventSink sink, TransportOptions? options = null)
    {
        _sink = sink;
        _options = options ?? new TransportOptions();
        _framer = new PacketFramer(this);
        _tracker = new IndicatorTracker(sink, _options)
        {
            OnProgramFailure = (program, indicator) =>
            {
                if (_programsByNumber.TryGetValue(program, out var p)) p._counts[(int)indicator]++;
            },
        };
        _pat = new Deadline(Indicator.PatError, TsPacket.PatPid, 0, _options.PatInterval);
        _onSection = OnSection;
        _pcrAccuracyTicks = (long)Math.Round(_options.PcrAccuracy * TsPacket.ClockHz);
        _pcrMaxStepTicks = (long)Math.Round(_options.PcrMaxStep * TsPacket.ClockHz);
        Psi(TsPacket.PatPid);
        Psi(TsPacket.CatPid);
        Psi(TsPacket.NitPid);
        Psi(TsPacket.SdtPid);
        Psi(TsPacket.EitPid);
        Psi(TsPacket.TdtPid);
    }

    /// <summary>Transport time of the latest packet (seconds since the first PCR; see <see cref="MuxClock"/>).</summary>
    public double Time => _now;

    /// <summary>Packets analysed (in sync).</summary>
    public long Packets { get; private set; }

    /// <summary>Bytes skipped while searching for sync.</summary>
    public long SkippedBytes => _framer.SkippedBytes;

    /// <summary>Datagrams missing by RTP sequence number (RTP inputs).</summary>
    public long RtpLostDatagrams => _framer.RtpLostDatagrams;

    /// <summary>Datagrams that carried an RTP header.</summary>
    public long RtpDatagrams => _framer.RtpDatagrams;

    /// <summary>188 or 204 once sync was found, else 0.</summary>
    public int PacketSize => _framer.PacketSize;

    /// <summary>Whether the bytes were ever in sync as a transport stream.</summary>
    public bool IsTransportStream => _everSynced;

    /// <summary>The mux rate in bits per second (188-byte packets) from the reference PCRs; 0 until known.</summary>
    public double BitsPerSecond => _clock.BitsPerSecond;

    /// <summary>Programmes in PAT order (the latest PAT).</summary>
    public IReadOnlyList<TransportProgram> Programs => _programs;

    /// <summary>Failures of <paramref name="indicator"/> over the input so far.</summary>
    public long Count(Indicator indicator) => _tracker.Totals[(int)indicator];

    /// <summary>
    /// Failures per indicator (indexed by <see cref="Indicator"/>) by the programme they were on, 0 for the multiplex
    /// as a whole (sync, PAT, CAT, PIDs of no programme): each failure counted once, so the entries add up to
    /// <see cref="Count"/>. A copy of the counts so far, safe to take from any thread while the analyser runs.
    /// </summary>
    public IReadOnlyDictionary<int, long[]> CountsByProgram()
    {
        var copy = new Dictionary<int, long[]>();
        foreach (var (program, counts) in _tracker.ByProgram)
        {
            var read = new long[counts.Length];
            for (var i = 0; i < counts.Length; i++) read[i] = Interlocked.Read(ref counts[i]);
            copy[program] = read;
        }
        return copy;
    }

    /// <summary>Counts of one PID, or null when it never occurred.</summary>
    public PidStatistics? Pid(int pid) => _pids[pid] is { Packets: > 0 } s ? s.Snapshot() : null;

    /// <summary>The drift of a live input's arrival times against PCR PID <paramref name="pid"/>'s clock as last fitted (s/s); NaN without.</summary>
    internal double ArrivalDrift(int pid) => _pids[pid]?.Arrival?.Drift ?? double.NaN;

    /// <summary>Every PID seen, by PID.</summary>
    public IEnumerable<PidStatistics> Pids => _pids.Where(p => p is { Packets: > 0 }).Select(p => p!.Snapshot());

    /// <summary>
    /// The next bytes of a stream input (file, TCP, HTTP, SRT; a UDP payload without RTP works too), and for a live
    /// input when they arrived (<paramref name="arrivalNanoseconds"/>: a monotonic clock, taken when the read that
    /// got them returned; <see cref="NoArrival"/>, a file's bytes: none).
    /// </summary>
    public void Feed(ReadOnlySpan<byte> data, long arrivalNanoseconds = NoArrival)
    {
        Arrived(arrivalNanoseconds);
        _framer.Feed(data);
    }

    /// <summary>One datagram of a UDP input, with or without an RTP header, and when it arrived (see <see cref="Feed"/>).</summary>
    public void FeedDatagram(ReadOnlySpan<byte> datagram, long arrivalNanoseconds = NoArrival)
    {
        Arrived(arrivalNanoseconds);
        _framer.FeedDatagram(datagram);
    }

    private void Arrived(long nanoseconds)
    {
        if (nanoseconds == NoArrival) return;
        if (_arrivalOrigin == NoArrival)
        {
            _arrivalOrigin = nanoseconds;
            // an arrival error is decided a second after its PCR: the defect waits that long before it clears
            _tracker.DelayClear(Indicator.PcrAccuracyError, PcrArrival.LookAhead + _options.PcrIntervalVariableRate);
        }
        _arrival = (nanoseconds - _arrivalOrigin) / 1e9;
    }

    /// <summary>End of input: indicators that pass again are cleared; those still failing stay raised (<see cref="TransportEventKind.StillFailing"/>).</summary>
    public void Finish()
    {
        foreach (var s in _pids) s?.Arrival?.Flush();
        _tracker.Scan(_now);
        _tracker.Finish(_now);
    }

    /// <summary>
    /// Programme <paramref name="program"/>'s own clock (seconds of its PCR, continued across the 33-bit wrap)
    /// at transport time <paramref name="time"/>; for 0, the first programme with a clock. NaN before any PCR.
    /// The programme's PCR PID is its clock; one that declares none (0x1FFF) borrows PCRs from its own
    /// streams, or else from the multiplex's reference.
    /// </summary>
    public double ClockAt(int program, double time)
    {
        var c = ClockPid(program);
        return c is null ? double.NaN : c.UnwrappedPcr / TsPacket.ClockHz + (time - c.LastPcrTime);
    }

    private PidState? ClockPid(int program)
    {
        if (program != 0)
            return _programsByNumber.TryGetValue(program, out var p) ? ClockPid(p) : null;
        foreach (var p in _programs)
            if (ClockPid(p) is { } c) return c;
        foreach (var s in _pids)
            if (s is { LastPcr: >= 0 }) return s;
        return null;
    }

    private PidState? ClockPid(TransportProgram p)
    {
        if (p.PcrPid != TsPacket.NullPid && _pids[p.PcrPid] is { LastPcr: >= 0 } pcr) return pcr;
        foreach (var e in p.Streams)
            if (_pids[e.Pid] is { LastPcr: >= 0 } s) return s;
        return null;
    }

    // ---- packets ----

    void IPacketReceiver.OnSyncAcquired(int packetSize)
    {
        _everSynced = true;
        if (_syncLost) _tracker.EndFailing(Indicator.SyncLoss, -1, 0, _now);
        _syncLost = false;
    }

    void IPacketReceiver.OnSyncLost()
    {
        _syncLost = true;
        RestartRateRuns();
        _tracker.BeginFailing(Indicator.SyncLoss, -1, 0, _now);
    }

    void IPacketReceiver.OnSyncByteError()
    {
        _tracker.Fail(Indicator.SyncByteError, -1, 0, _now);
    }

    void IPacketReceiver.OnPacket(ReadOnlySpan<byte> p, long streamOffset)
    {
        // byte positions count 188-byte packets, so the mux rate reads the same for 204-byte packets
        var position = _framer.PacketSize == TsPacket.Size ? streamOffset : streamOffset * TsPacket.Size / _framer.PacketSize;
        Packets++;
        var pid = TsPacket.Pid(p);
        var s = _pids[pid] ?? New(pid);
        s.Packets++;
        var afc = (p[3] >> 4) & 3;
        var flags = (afc & 2) != 0 && p[4] > 0 ? p[5] : 0;
        var tei = (p[1] & 0x80) != 0;
        var pcr = !tei && (flags & TsPacket.PcrFlag) != 0 && p[4] >= 7 ? TsPacket.Pcr(p) : -1;
        if (pcr >= 0) _clock.OnPcr(pid, pcr, position, (flags & TsPacket.DiscontinuityFlag) != 0);
        _now = _clock.At(position);
        if (_now >= _nextScan) Scan();

        if (tei)
        {
            // the packet is damaged beyond repair: nothing in it is used, but its continuity counter is taken
            // as sent, so that one damaged packet is one transport error and not a continuity error too
            s.TransportErrors++;
            _tracker.Fail(Indicator.TransportError, pid, s.Program, _now);
            if ((afc & 1) != 0) s.LastCc = p[3] & 0x0F;
            s.Sections?.Reset();
            return;
        }
        if (pid == TsPacket.NullPid)
        {
            _lastNull = _now;
            return;
        }
        if (afc == 0) return;
        if (s.Presence is { } presence) _tracker.Occurred(presence, _now);
        var scrambled = (p[3] & 0xC0) != 0;
        if (scrambled) Scrambled(s);
        var discontinuity = (flags & TsPacket.DiscontinuityFlag) != 0;
        var repeated = false;
        if ((afc & 1) != 0) repeated = Continuity(s, p[3] & 0x0F, discontinuity);
        else if (discontinuity) s.DiscontinuityPending = true;
        if (pcr >= 0) Pcr(s, pcr, position, discontinuity);
        if ((afc & 1) == 0 || repeated || scrambled) return;

        var offset = afc == 3 ? 5 + p[4] : 4;
        if (offset >= TsPacket.Size) return;
        var unitStart = (p[1] & 0x40) != 0;
        if (s.Role == PidRole.Psi)
        {
            _sectionPid = s;
            s.Sections!.Push(p[offset..], unitStart, _onSection);
        }
        else if (unitStart)
        {
            PesHeader(s, p[offset..]);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private PidState New(int pid) => _pids[pid] = new PidState(pid);

    private PidState Get(int pid) => _pids[pid] ?? New(pid);

    private void Psi(int pid)
    {
        var s = Get(pid);
        s.Role = PidRole.Psi;
        s.Sections ??= new SectionAssembler();
    }

    private void Scan()
    {
        _tracker.Scan(_now);
        if (_catMissing && (_catSeen || _now - _lastScrambled > _options.PatInterval))
        {
            _catMissing = false;
            _tracker.EndFailing(Indicator.CatError, TsPacket.CatPid, 0, _catSeen ? _now : _lastScrambled);
        }
        _nextScan = _now + ScanPeriod;
    }

    /// <summary>Continuity counter check (1.4); true when the packet repeats the previous one (its payload is skipped).</summary>
    private bool Continuity(PidState s, int cc, bool discontinuity)
    {
        var last = s.LastCc;
        s.LastCc = cc;
        if (last < 0 || discontinuity || s.DiscontinuityPending)
        {
            s.DiscontinuityPending = false;
            s.Repeated = false;
            return false;
        }
        if (cc == last)
        {
            // ISO/IEC 13818-1 allows a packet to be sent twice; TR 101 290 flags "a packet occurs more than twice"
            if (!s.Repeated)
            {
                s.Repeated = true;
                s.Duplicates++;
            }
            else
            {
                ContinuityError(s, 0);
            }
            return true;
        }
        s.Repeated = false;
        if (cc != ((last + 1) & 0x0F)) ContinuityError(s, (cc - last - 1) & 0x0F);
        return false;
    }

    private void ContinuityError(PidState s, int lost)
    {
        s.ContinuityErrors++;
        s.LostPackets += lost;
        s.Sections?.Reset();
        if (lost > 0) RestartRateRuns();
        _tracker.Fail(Indicator.ContinuityCountError, s.Pid, s.Program, _now);
        if (lost > 0) _sink.OnTransportEvent(new TransportEvent(TransportEventKind.PacketsLost, Indicator.ContinuityCountError, s.Pid, s.Program, _now, lost, s.LastPts));
    }

    private void Scrambled(PidState s)
    {
        s.Scrambled++;
        if (s.Pid == TsPacket.PatPid) _tracker.Fail(Indicator.PatError, s.Pid, 0, _now);
        else if (s.IsPmt) _tracker.Fail(Indicator.PmtError, s.Pid, s.Program, _now);
        if (_catSeen) return;
        _lastScrambled = _now;
        if (_catMissing) return;
        _catMissing = true;
        _tracker.BeginFailing(Indicator.CatError, TsPacket.CatPid, 0, _now);
    }

    /// <summary>PCR checks (2.3a repetition, 2.3b discontinuity, 2.4 accuracy) on a programme's PCR PID; every PID keeps its clock.</summary>
    private void Pcr(PidState s, long pcr, long position, bool discontinuity)
    {
        s.Pcrs++;
        var counted = false;
        var restart = s.LastPcr < 0;
        if (s.LastPcr < 0)
        {
            s.UnwrappedPcr = pcr;
        }
        else
        {
            var step = TsPacket.WrapDifference(pcr, s.LastPcr, TsPacket.PcrWrap);
            s.UnwrappedPcr += step;
            var regular = !discontinuity && step > 0 && step <= _pcrMaxStepTicks;
            if (s.IsProgramPcr && !discontinuity && !regular)
                _tracker.Fail(Indicator.PcrDiscontinuityIndicatorError, s.Pid, s.Program, _now);
            if (!regular) s.RateRun = 0;
            else if (s.IsProgramPcr) counted = Accuracy(s, step, position);
            // a PCR a little off is what the arrival check judges (a step back of a few ms is 2.3b's and 2.4's);
            // only a new clock (flagged, or a jump of over a second) starts its floor again
            restart = discontinuity || Math.Abs(step) > TsPacket.ClockHz;
            var interval = step / TsPacket.ClockHz;
            if (regular && interval <= _options.PcrIntervalVariableRate)
                s.PcrCadence = double.IsNaN(s.PcrCadence) ? interval : s.PcrCadence + (interval - s.PcrCadence) / CadenceSpan;
        }
        if (s.PcrRepetition is { } d)
        {
            d.Relimit(PcrRepetitionLimit(s));
            if (double.IsNaN(d.Last)) _tracker.Watch(d, _now); // armed at the first PCR after the PMT
            else _tracker.Occurred(d, _now);
        }
        if (s.IsProgramPcr && !double.IsNaN(_arrival)) ArrivalAccuracy(s, restart, counted);
        s.LastPcr = pcr;
        s.LastPcrTime = _now;
        s.LastPcrPosition = position;
    }

    /// <summary>2.4 on a live input: the PCR against the arrival time of its bytes (<see cref="PcrArrival"/>).</summary>
    private void ArrivalAccuracy(PidState s, bool restart, bool counted)
    {
        var arrival = s.Arrival ??= new PcrArrival(_options.PcrArrivalAccuracy, time => _tracker.Fail(Indicator.PcrAccuracyError, s.Pid, s.Program, time));
        if (restart) arrival.Restart();
        arrival.OnPcr(_arrival, s.UnwrappedPcr / TsPacket.ClockHz, _now, counted);
    }

    /// <summary>The moving average of PCR intervals spans about this many of them.</summary>
    private const int CadenceSpan = 8;

    /// <summary>
    /// 2.3a's limit for this PCR PID: DVB's 40 ms where the transport is a DVB-style one, i.e. the mux stuffs
    /// to a constant rate or its PCRs usually come within 40 ms (an SPTS cut out of a multiplex: test-025);
    /// ISO/IEC 13818-1's 100 ms for a variable-rate mux whose encoder spaces PCRs wider as a rule (FFmpeg's
    /// muxer: the largest multiple of a frame up to 100 ms). A gap does not move the cadence (only intervals
    /// within 100 ms do), so a DVB stream whose PCRs stop is still held to 40 ms. Until a PID's first interval
    /// shows its cadence, the wider limit.
    /// </summary>
    private double PcrRepetitionLimit(PidState s) =>
        ConstantRate || s.PcrCadence <= _options.PcrInterval ? _options.PcrInterval : _options.PcrIntervalVariableRate;

    /// <summary>PCR intervals of constant rate before accuracy is judged.</summary>
    private const int AccuracyRun = 16;
    /// <summary>A PCR this far (1 ms) from its byte position's value means the rate is not constant, not that the PCR is wrong.</summary>
    private const long VariableRateTicks = 27_000;
    /// <summary>A constant-rate mux fills its rate with null packets: accuracy is judged while one came within this long.</summary>
    private const double ConstantRateEvidence = 1.0;
    /// <summary>The mux stuffs up to a constant rate: a null packet came within <see cref="ConstantRateEvidence"/>.</summary>
    private bool ConstantRate => _now - _lastNull <= ConstantRateEvidence;

    /// <summary>
    /// 2.4: a PCR against the value its byte position implies at the mux rate (TR 101 290 5.3.2: PCR_AC): the
    /// previous PCR (or, after a failure, the previous prediction) plus the bytes since at the mean rate of the
    /// run. So a single wrong PCR is one error, and a step of the whole clock (a byte inserted) is one error,
    /// after which the prediction follows the new level. A mux that varies its rate (VBR, or a programme
    /// filtered out of a multiplex) has no byte clock to measure against: accuracy is judged only while null
    /// packets show that the mux stuffs up to a constant rate (an SPTS cut out of a multiplex has none, and
    /// its PCRs sit up to a millisecond off any straight line: test-025), after 16 intervals of that rate; a
    /// deviation over 1 ms, lost packets and lost sync restart the run.
    /// </summary>
    private bool Accuracy(PidState s, long step, long position)
    {
        var previous = s.UnwrappedPcr - step;
        if (s.RateRun == 0)
        {
            s.RunPcr = previous;
            s.RunPosition = s.LastPcrPosition;
            s.Predicted = s.UnwrappedPcr;
            s.RateRun = 1;
            s.DeviationFailed = false;
            return false;
        }
        var ticksPerByte = (previous - s.RunPcr) / (double)(s.LastPcrPosition - s.RunPosition);
        var predicted = s.Predicted + (position - s.LastPcrPosition) * ticksPerByte;
        var deviation = s.UnwrappedPcr - predicted;
        if (Math.Abs(deviation) > VariableRateTicks)
        {
            s.RateRun = 0;
            return false;
        }
        s.RateRun++;
        if (Math.Abs(deviation) <= _pcrAccuracyTicks || (s.DeviationFailed && Math.Abs(deviation - s.LastDeviation) <= _pcrAccuracyTicks))
        {
            // accurate, or the same offset twice: the clock stepped and this is its new level
            s.Predicted = s.UnwrappedPcr;
            s.DeviationFailed = false;
            return false;
        }
        var failed = s.RateRun > AccuracyRun && ConstantRate;
        if (failed) _tracker.Fail(Indicator.PcrAccuracyError, s.Pid, s.Program, _now);
        s.Predicted = predicted;
        s.DeviationFailed = true;
        s.LastDeviation = deviation;
        return failed;
    }

    /// <summary>Lost bytes (packets, sync) take the byte clock with them: accuracy runs start again.</summary>
    private void RestartRateRuns()
    {
        foreach (var p in _programs)
            if (p.PcrPid != TsPacket.NullPid && _pids[p.PcrPid] is { } s) s.RateRun = 0;
    }

    private void PesHeader(PidState s, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 9 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1)
        {
            if (s.Role == PidRole.Pes) s.InvalidPesStarts++; // a PID of no PMT may carry anything
            return;
        }
        s.PesStarts++;
        // streams without the optional PES header: program_stream_map, padding, private_stream_2, ECM, EMM, DSM-CC, H.222.1 E, directory
        if (payload[3] is 0xBC or 0xBE or 0xBF or 0xF0 or 0xF1 or 0xF2 or 0xF8 or 0xFF) return;
        if ((payload[6] & 0xC0) != 0x80 || (payload[7] & 0x80) == 0 || payload.Length < 14) return;
        s.PtsCount++;
        s.LastPts = TsPacket.Timestamp(payload[9..]);
        if (s.Pts is { } d) _tracker.Occurred(d, _now);
    }

    // ---- sections ----

    private void OnSection(ReadOnlySpan<byte> section)
    {
        var s = _sectionPid!;
        s.SectionCount++;
        var table = section[0];
        var longForm = (section[1] & 0x80) != 0;
        if (longForm || table == 0x73) // long-form sections and the TOT carry a CRC_32
        {
            if (section.Length < (longForm ? 12 : 7) || Crc32Mpeg.Compute(section) != 0)
            {
                s.CrcErrors++;
                _tracker.Fail(Indicator.CrcError, s.Pid, s.Program, _now);
                return;
            }
        }
        switch (s.Pid)
        {
            case TsPacket.PatPid:
                if (table != 0x00) _tracker.Fail(Indicator.PatError, s.Pid, 0, _now);
                else if (longForm) Pat(section);
                return;
            case TsPacket.CatPid:
                if (table != 0x01) _tracker.Fail(Indicator.CatError, s.Pid, 0, _now);
                else _catSeen = true;
                return;
            case TsPacket.SdtPid:
                if (table == 0x42 && longForm) Sdt(section);
                return;
        }
        if (s.IsPmt && table == 0x02 && longForm) Pmt(s, section);
    }

    private void Pat(ReadOnlySpan<byte> section)
    {
        if ((section[5] & 1) == 0) return; // not yet applicable
        if (double.IsNaN(_pat.Last)) _tracker.Watch(_pat, _now);
        else _tracker.Occurred(_pat, _now);
        var version = (section[5] >> 1) & 0x1F;
        var single = section[6] == 0 && section[7] == 0;
        if (single && version == _patVersion) return;
        _patVersion = single ? version : -1;

        var listed = new List<(int Number, int Pid)>();
        for (var i = 8; i + 4 <= section.Length - 4; i += 4)
        {
            var number = (section[i] << 8) | section[i + 1];
            var pid = ((section[i + 2] & 0x1F) << 8) | section[i + 3];
            if (number != 0) listed.Add((number, pid)); // 0 names the NIT
        }
        ApplyPat(listed, single);
    }

    /// <summary>A new PAT (its own method: its lambdas would otherwise allocate on every repetition of the PAT).</summary>
    private void ApplyPat(List<(int Number, int Pid)> listed, bool single)
    {
        if (single)
            foreach (var gone in _programs.Where(p => !listed.Any(l => l.Number == p.Number)).ToList()) Remove(gone);
        foreach (var (number, pid) in listed)
        {
            if (_programsByNumber.TryGetValue(number, out var existing))
            {
                if (existing.PmtPid == pid) continue;
                Remove(existing);
            }
            var program = new TransportProgram(number, pid);
            _programs.Add(program);
            _programsByNumber[number] = program;
            Psi(pid);
            var pmt = Get(pid);
            pmt.IsPmt = true;
            if (pmt.Program == 0) pmt.Program = number;
            program.PmtDeadline = new Deadline(Indicator.PmtError, pid, number, _options.PmtInterval);
            _tracker.Watch(program.PmtDeadline, _now);
        }
        // keep PAT order
        _programs.Sort((a, b) => listed.FindIndex(l => l.Number == a.Number).CompareTo(listed.FindIndex(l => l.Number == b.Number)));
    }

    private void Remove(TransportProgram program)
    {
        if (program.PmtDeadline is { } d) _tracker.Unwatch(d, _now);
        SetStreams(program, [], TsPacket.NullPid);
        _programs.Remove(program);
        _programsByNumber.Remove(program.Number);
    }

    private void Pmt(PidState pmt, ReadOnlySpan<byte> section)
    {
        if (section.Length < 16 || (section[5] & 1) == 0) return;
        var number = (section[3] << 8) | section[4];
        if (!_programsByNumber.TryGetValue(number, out var program) || program.PmtPid != pmt.Pid) return;
        _tracker.Occurred(program.PmtDeadline!, _now);
        var version = (section[5] >> 1) & 0x1F;
        if (version == program.PmtVersion) return;
        program.PmtVersion = version;

        var pcrPid = ((section[8] & 0x1F) << 8) | section[9];
        var end = section.Length - 4;
        var position = 12 + (((section[10] & 0x0F) << 8) | section[11]);
        var streams = new List<ElementaryStream>();
        while (position + 5 <= end)
        {
            var type = section[position];
            var pid = ((section[position + 1] & 0x1F) << 8) | section[position + 2];
            var length = ((section[position + 3] & 0x0F) << 8) | section[position + 4];
            var descriptors = section.Slice(position + 5, Math.Min(length, end - position - 5));
            streams.Add(new ElementaryStream(pid, type, StreamTypes.Classify(type, descriptors)));
            position += 5 + length;
        }
        SetStreams(program, streams, pcrPid);
    }

    /// <summary>Applies a programme's new stream list: roles of its PIDs, and the deadlines of PID presence, PTS and PCR.</summary>
    private void SetStreams(TransportProgram program, List<ElementaryStream> streams, int pcrPid)
    {
        foreach (var old in program.Streams)
        {
            if (streams.Any(e => e.Pid == old.Pid) || _pids[old.Pid] is not { } s || s.Program != program.Number) continue;
            if (s.Presence is { } presence) _tracker.Unwatch(presence, _now);
            if (s.Pts is { } pts) _tracker.Unwatch(pts, _now);
            s.Presence = s.Pts = null;
            if (s.Role == PidRole.Pes) s.Role = PidRole.Unknown;
        }
        if (program.PcrPid != pcrPid && program.PcrPid != TsPacket.NullPid && _pids[program.PcrPid] is { } oldPcr && oldPcr.Program == program.Number)
        {
            if (oldPcr.PcrRepetition is { } d) _tracker.Unwatch(d, _now);
            oldPcr.PcrRepetition = null;
            oldPcr.IsProgramPcr = false;
        }
        program.Streams = streams;
        program.PcrPid = pcrPid;
        foreach (var e in streams)
        {
            var s = Get(e.Pid);
            if (s.Program == 0) s.Program = program.Number;
            if (s.Role == PidRole.Psi) continue;
            s.Role = PidRole.Pes;
            s.Kind = e.Kind;
            if (e.Kind == StreamKind.Other || s.Program != program.Number) continue;
            // sparse streams (subtitles, data) may legitimately pause: presence and PTS are checked on video and audio
            if (s.Presence is null) _tracker.Watch(s.Presence = new Deadline(Indicator.PidError, e.Pid, program.Number, _options.PidTimeout), _now);
            if (s.Pts is null) _tracker.Watch(s.Pts = new Deadline(Indicator.PtsError, e.Pid, program.Number, _options.PtsInterval), _now);
        }
        if (pcrPid != TsPacket.NullPid)
        {
            var pcr = Get(pcrPid);
            if (pcr.Program == 0) pcr.Program = program.Number;
            pcr.IsProgramPcr = true;
            pcr.PcrRepetition ??= new Deadline(Indicator.PcrRepetitionError, pcrPid, program.Number, _options.PcrInterval);
        }
    }

    private void Sdt(ReadOnlySpan<byte> section)
    {
        var end = section.Length - 4;
        var position = 11;
        while (position + 5 <= end)
        {
            var service = (section[position] << 8) | section[position + 1];
            var length = ((section[position + 3] & 0x0F) << 8) | section[position + 4];
            var descriptors = section.Slice(position + 5, Math.Min(length, end - position - 5));
            position += 5 + length;
            if (!_programsByNumber.TryGetValue(service, out var program) || program.ServiceName is not null) continue;
            for (var d = 0; d + 2 <= descriptors.Length; d += 2 + descriptors[d + 1])
            {
                if (descriptors[d] != 0x48 || d + 2 + descriptors[d + 1] > descriptors.Length) continue;
                var body = descriptors.Slice(d + 2, descriptors[d + 1]);
                if (body.Length < 3) continue;
                var provider = body[1];
                if (2 + provider >= body.Length) continue;
                var nameLength = body[2 + provider];
                if (3 + provider + nameLength > body.Length) continue;
                program.ProviderName = DvbText.Decode(body.Slice(2, provider));
                program.ServiceName = DvbText.Decode(body.Slice(3 + provider, nameLength));
            }
        }
    }
}
