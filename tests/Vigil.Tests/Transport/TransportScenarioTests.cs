using Vigil.Transport;
using static Vigil.Tests.Transport.SyntheticMux;

namespace Vigil.Tests.Transport;

/// <summary>
/// TR 101 290 scenarios in the style of TSDuck's test tables: a synthetic constant-rate multiplex, one
/// fault inserted at a known place, and the exact indicator counts it must give (every other indicator 0).
/// Each indicator has a scenario that raises it and a trap beside it that must not (a single duplicate, a
/// discontinuity_indicator, a PID the PMT dropped, a PCR 300 ns off, ...).
/// </summary>
public sealed class TransportScenarioTests
{
    public static TheoryData<string> Scenarios => new(ScenarioTable.Keys);

    private sealed record Scenario(Action<SyntheticMux> Damage, Dictionary<Indicator, long> Expected, double Seconds = 4, bool WithCat = false);

    private static bool Video(MuxPacket p) => p.Pid == VideoPid(1);
    private static bool Audio(MuxPacket p) => p.Pid == AudioPid(1);
    private static bool VideoPayload(MuxPacket p) => Video(p) && p.Carries == Carries.PesPayload && (p.Bytes[3] & 0x10) != 0;

    private static readonly Dictionary<string, Scenario> ScenarioTable = new()
    {
        ["clean"] = new(_ => { }, []),
        ["3 video packets lost"] = new(m => LoseNext(m, 1.0, VideoPayload, 3), new() { [Indicator.ContinuityCountError] = 1 }),
        ["one packet sent twice (allowed)"] = new(m => m.Repeat(LastOfPes(m, 1.0), 1), []),
        ["one packet sent three times"] = new(m => m.Repeat(LastOfPes(m, 1.0), 2), new() { [Indicator.ContinuityCountError] = 1 }),
        // 4, [6, 5], 7: three steps out of order
        ["two packets swapped"] = new(m =>
        {
            var a = m.Find(1.0, VideoPayload);
            m.Swap(a, m.Find(m.Packets[a].Time + 1e-6, VideoPayload));
        }, new() { [Indicator.ContinuityCountError] = 3 }),
        ["counter jump with discontinuity_indicator (allowed)"] = new(m =>
        {
            var start = m.Find(1.0, p => Video(p) && p.Carries == Carries.PesStart);
            m.Packets[start].Bytes[5] |= 0x80;
            foreach (var p in m.Packets.Skip(start).Where(Video)) MuxDamage.SetCc(p, (p.Bytes[3] & 0x0F) + 5);
        }, []),
        ["PAT absent for 1 s"] = new(m => m.Omit(p => p.Carries == Carries.Pat && p.Time > 0.95 && p.Time < 1.95),
            new() { [Indicator.PatError] = 1 }),
        ["PAT absent for 0.4 s (within 0.5 s)"] = new(m => m.Omit(p => p.Carries == Carries.Pat && p.Time > 0.95 && p.Time < 1.25), []),
        ["PMT absent for 1 s"] = new(m => m.Omit(p => p.Carries == Carries.Pmt && p.Time > 0.95 && p.Time < 1.95),
            new() { [Indicator.PmtError] = 1 }),
        ["PMT packet scrambled"] = new(m => Scramble(m.Packets[m.Find(1.0, p => p.Carries == Carries.Pmt)]),
            new() { [Indicator.PmtError] = 1, [Indicator.CatError] = 1 }),
        ["video scrambled without CAT"] = new(m => Scramble(m.Packets[m.Find(1.0, VideoPayload)]), new() { [Indicator.CatError] = 1 }),
        ["video scrambled with CAT (allowed)"] = new(m => Scramble(m.Packets[m.Find(1.0, VideoPayload)]), [], WithCat: true),
        ["PMT on PID 1"] = new(m => ReplaceSection(m, m.Find(1.0, p => p.Carries == Carries.Cat), Pmt(1)),
            new() { [Indicator.CatError] = 1 }, WithCat: true),
        ["PAT CRC byte flipped"] = new(m => FlipCrc(m.Packets[m.Find(1.0, p => p.Carries == Carries.Pat)]), new() { [Indicator.CrcError] = 1 }),
        ["PMT CRC byte flipped"] = new(m => FlipCrc(m.Packets[m.Find(1.0, p => p.Carries == Carries.Pmt)]), new() { [Indicator.CrcError] = 1 }),
        ["another table on PID 0"] = new(m => ReplaceSection(m, m.Find(1.0, p => p.Carries == Carries.Pat), LongSection(0x02, Pmt(1)[3..^4])),
            new() { [Indicator.PatError] = 1 }),
        ["PCRs absent for 100 ms"] = new(m => StripPcrs(m, 1.0, 0.100), new() { [Indicator.PcrRepetitionError] = 1 }),
        ["PCRs absent for 40 ms (allowed)"] = new(m => StripPcrs(m, 1.0, 0.040), []),
        // no null packets, but PCRs usually within 40 ms: still a DVB-style transport, held to 40 ms
        ["no null packets: PCRs absent for 80 ms"] = new(m => { StripPcrs(m, 1.0, 0.080); WithoutNulls(m); },
            new() { [Indicator.PcrRepetitionError] = 1 }),
        ["PCR jumps 200 ms ahead"] = new(m => ShiftPcrs(m, 2.0, 0.2, indicate: false), new() { [Indicator.PcrDiscontinuityIndicatorError] = 1 }),
        ["PCR goes back 50 ms"] = new(m => ShiftPcrs(m, 2.0, -0.05, indicate: false), new() { [Indicator.PcrDiscontinuityIndicatorError] = 1 }),
        ["PCR jump with discontinuity_indicator (allowed)"] = new(m => ShiftPcrs(m, 2.0, 0.2, indicate: true), []),
        ["one PCR 2 µs off"] = new(m => NudgePcr(m, 2.0, 2e-6), new() { [Indicator.PcrAccuracyError] = 1 }),
        ["one PCR 300 ns off (within 500 ns)"] = new(m => NudgePcr(m, 2.0, 300e-9), []),
        ["no PTS on video for 800 ms"] = new(m => StripPtsFor(m, 1.0, 0.8, Video), new() { [Indicator.PtsError] = 1 }),
        ["no PTS on audio for 600 ms (within 700 ms)"] = new(m => StripPtsFor(m, 1.0, 0.6, Audio), []),
        // the PTS stop with the packets: both are true of a PID that stopped
        ["audio PID stops"] = new(m => m.Omit(p => Audio(p) && p.Time >= 2.0), new() { [Indicator.PidError] = 1, [Indicator.PtsError] = 1 }),
        ["audio PID dropped from the PMT, then stops (allowed)"] = new(m =>
        {
            var pmt = m.Find(1.0, p => p.Carries == Carries.Pmt);
            foreach (var i in Enumerable.Range(pmt, m.Packets.Count - pmt).Where(i => m.Packets[i].Carries == Carries.Pmt).ToList())
                ReplaceSection(m, i, Pmt(1, version: 1, withAudio: false));
            m.Omit(p => Audio(p) && p.Time >= m.Packets[pmt].Time);
        }, []),
        ["transport_error_indicator on one packet"] = new(m => m.Packets[m.Find(1.0, VideoPayload)].Bytes[1] |= 0x80,
            new() { [Indicator.TransportError] = 1 }),
        ["one sync byte corrupted"] = new(m => m.Packets[m.Find(1.0, p => p.Pid == TsPacket.NullPid)].Bytes[0] = 0x46,
            new() { [Indicator.SyncByteError] = 1 }),
        ["two sync bytes in a row corrupted"] = new(m =>
        {
            var i = m.Find(1.0, p => p.Pid == TsPacket.NullPid && m.Packets[m.Packets.IndexOf(p) + 1].Pid == TsPacket.NullPid);
            m.Packets[i].Bytes[0] = m.Packets[i + 1].Bytes[0] = 0x00;
        }, new() { [Indicator.SyncByteError] = 2, [Indicator.SyncLoss] = 1 }),
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario_gives_exactly_its_indicator_counts(string name)
    {
        var scenario = ScenarioTable[name];
        var mux = new SyntheticMux(scenario.Seconds, withCat: scenario.WithCat);
        scenario.Damage(mux);
        var run = TransportRun.Of(mux.Build());
        Assert.Equal(scenario.Expected.OrderBy(e => e.Key), run.Failed().OrderBy(e => e.Key));
        // every raise has its clear (or is still failing at the end), and counts add up
        foreach (var (indicator, count) in scenario.Expected)
        {
            var raised = run.Raised(indicator).ToList();
            Assert.NotEmpty(raised);
            var still = run.Events.Where(e => e.Kind == TransportEventKind.StillFailing && e.Indicator == indicator).Sum(e => e.Count);
            Assert.Equal(count, run.Cleared(indicator).Sum(e => e.Count) + still);
        }
    }

    /// <summary>The last packet of a video PES: null packets follow it before the next one on its PID.</summary>
    private static int LastOfPes(SyntheticMux m, double from)
    {
        var start = m.Find(from, p => Video(p) && p.Carries == Carries.PesStart);
        var last = start;
        for (var i = start + 1; m.Packets[i].Carries != Carries.PesStart || !Video(m.Packets[i]); i++)
            if (VideoPayload(m.Packets[i])) last = i;
        return last;
    }

    private static void LoseNext(SyntheticMux m, double from, Func<MuxPacket, bool> which, int count)
    {
        var i = m.Find(from, which);
        var lost = 0;
        for (; lost < count; i++)
            if (which(m.Packets[i])) { m.Packets[i] = Null(m.Packets[i].Time); lost++; }
    }

    private static void WithoutNulls(SyntheticMux m) => m.Omit(p => p.Pid == TsPacket.NullPid);

    private static void Scramble(MuxPacket p) => p.Bytes[3] |= 0x80;

    private static void FlipCrc(MuxPacket p)
    {
        var length = ((p.Bytes[6] & 0x0F) << 8) | p.Bytes[7];
        p.Bytes[5 + 3 + length - 1] ^= 0x01;
    }

    private static void ReplaceSection(SyntheticMux m, int index, byte[] section)
    {
        var p = m.Packets[index];
        section.CopyTo(p.Bytes, 5);
        for (var i = 5 + section.Length; i < TsPacket.Size; i++) p.Bytes[i] = 0xFF;
    }

    /// <summary>Removes the PCRs between the first PCR after <paramref name="from"/> and the one <paramref name="gap"/> later.</summary>
    private static void StripPcrs(SyntheticMux m, double from, double gap)
    {
        var pcrs = m.Packets.Where(p => p.HasPcr).ToList();
        var first = pcrs.First(p => p.Time >= from);
        var last = pcrs.First(p => p.Time >= first.Time + gap - 1e-9);
        Assert.Equal(gap, (MuxDamage.ReadPcr(last) - MuxDamage.ReadPcr(first)) / TsPacket.ClockHz, 6); // precondition: the gap is exact
        foreach (var p in pcrs.Where(p => p.Time > first.Time && p.Time < last.Time)) MuxDamage.StripPcr(p);
    }

    private static void ShiftPcrs(SyntheticMux m, double from, double seconds, bool indicate)
    {
        var first = true;
        foreach (var p in m.Packets.Where(p => p.HasPcr && p.Time >= from))
        {
            WritePcr(p.Bytes, MuxDamage.ReadPcr(p) + (long)Math.Round(seconds * TsPacket.ClockHz));
            if (first && indicate) p.Bytes[5] |= 0x80;
            first = false;
        }
    }

    private static void NudgePcr(SyntheticMux m, double at, double seconds)
    {
        var p = m.Packets.First(p => p.HasPcr && p.Time >= at);
        WritePcr(p.Bytes, MuxDamage.ReadPcr(p) + (long)Math.Round(seconds * TsPacket.ClockHz));
    }

    private static void StripPtsFor(SyntheticMux m, double from, double seconds, Func<MuxPacket, bool> pid)
    {
        foreach (var p in m.Packets.Where(p => pid(p) && p.Carries == Carries.PesStart && p.Time > from && p.Time < from + seconds))
            MuxDamage.StripPts(p);
    }
}
