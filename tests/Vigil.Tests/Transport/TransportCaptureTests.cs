using Vigil.Transport;

namespace Vigil.Tests.Transport;

/// <summary>The analyser on real broadcast captures, against TSDuck's own report of the same bytes.</summary>
public sealed class TransportCaptureTests
{
    [Theory]
    [InlineData("test-072.ts")]
    [InlineData("test-025.ts")]
    public void Every_pid_has_tsduck_s_packet_pcr_and_pts_counts_and_no_continuity_error(string name)
    {
        var capture = Path.Combine(Path.GetDirectoryName(RealCaptures.Test072)!, name);
        var tsduck = new TsduckReport(RealCaptures.TsduckReport(capture));
        var run = TransportRun.Of(File.ReadAllBytes(capture), 65536);
        Assert.Equal(tsduck.TotalPackets, run.Analyzer.Packets);
        Assert.Equal(tsduck.Pids.Keys.Order(), run.Analyzer.Pids.Select(p => p.Pid).Order());
        foreach (var (pid, facts) in tsduck.Pids)
        {
            var ours = run.Analyzer.Pid(pid)!;
            Assert.Equal((pid, facts.Packets, facts.UnexpectedDiscontinuities, facts.Duplicated), (pid, ours.Packets, ours.ContinuityErrors, ours.Duplicates));
            if (facts.Pcrs is { } pcrs) Assert.Equal((pid, pcrs), (pid, ours.Pcrs));
            if (facts.Pts is { } pts) Assert.Equal((pid, pts), (pid, ours.Pts));
        }
        Assert.Equal(0, run.Count(Indicator.ContinuityCountError));
        Assert.Equal(0, run.Count(Indicator.TransportError));
        Assert.Equal(0, run.Count(Indicator.CrcError));
    }

    [Fact]
    public void Test072_sends_its_pat_and_pmt_once_in_12_s()
    {
        // TSDuck counts one PAT and one PMT packet: both are missing for 12 s, a PAT error and a PMT error
        // that start 0.5 s in and never clear. Its PMT names no PCR PID, so no PCR is checked.
        var run = TransportRun.Of(File.ReadAllBytes(RealCaptures.Test072));
        Assert.Equal(new Dictionary<Indicator, long> { [Indicator.PatError] = 1, [Indicator.PmtError] = 1 }, run.Failed());
        Assert.Equal(0.5, Assert.Single(run.Raised(Indicator.PatError)).Time, 3);
        Assert.Empty(run.Cleared(Indicator.PatError));
        var program = Assert.Single(run.Analyzer.Programs);
        Assert.Equal(TsPacket.NullPid, program.PcrPid);
        Assert.Equal([(0x64, StreamKind.Audio), (0x65, StreamKind.Video)], program.Streams.Select(s => (s.Pid, s.Kind)));
        Assert.InRange(run.Analyzer.Time, 11.9, 12.1); // 12 s of PCR time, timed from the video PID's PCRs
    }

    [Fact]
    public void Test025_has_five_pcr_intervals_over_40_ms_and_is_not_judged_for_accuracy()
    {
        var bytes = File.ReadAllBytes(RealCaptures.Test025);
        var run = TransportRun.Of(bytes);
        // PCR intervals read straight from the bytes: the ground truth of 2.3a
        var pcrs = new List<long>();
        for (var i = 0; i < bytes.Length; i += 188)
            if (TsPacket.Pid(bytes.AsSpan(i)) == 0x100 && TsPacket.Pcr(bytes.AsSpan(i, 188)) is >= 0 and var pcr) pcrs.Add(pcr);
        var over = pcrs.Zip(pcrs.Skip(1)).Count(p => p.Second - p.First > 0.040 * TsPacket.ClockHz);
        Assert.Equal(87, pcrs.Count);
        Assert.Equal(5, over);
        // an SPTS cut out of a multiplex: no null packets, so no constant rate to measure PCR accuracy against
        Assert.Equal(new Dictionary<Indicator, long> { [Indicator.PcrRepetitionError] = over }, run.Failed());
        Assert.Equal("P1.1", Assert.Single(run.Analyzer.Programs).ServiceName);
    }

    [Fact]
    public void Test108_is_a_multiplex_of_five_tv_and_three_radio_programmes_hours_apart()
    {
        var run = TransportRun.Of(File.ReadAllBytes(RealCaptures.Test108));
        Assert.Empty(run.Failed());
        var programs = run.Analyzer.Programs.ToDictionary(p => p.Number);
        Assert.Equal([3401, 3402, 3403, 3410, 3411], programs.Values.Where(p => p.IsTelevision).Select(p => p.Number).Order());
        Assert.Equal(3, programs.Values.Count(p => p.IsRadio));
        Assert.Equal("Rai 1", programs[3401].ServiceName);
        Assert.Equal("Rai 2", programs[3402].ServiceName);
        Assert.StartsWith("Rai 3", programs[3403].ServiceName);
        Assert.Equal("Rai News 24", programs[3411].ServiceName);
        Assert.Equal("Test HEVC main10", programs[3410].ServiceName);
        // each programme's clock is its own: they differ by hours, and each runs with the multiplex
        var clocks = programs.Values.Where(p => p.IsTelevision).Select(p => run.Analyzer.ClockAt(p.Number, 0.5)).ToList();
        Assert.True(clocks.Max() - clocks.Min() > 3600, string.Join(", ", clocks));
        foreach (var p in programs.Values.Where(p => p.IsTelevision))
            Assert.Equal(0.25, run.Analyzer.ClockAt(p.Number, 0.75) - run.Analyzer.ClockAt(p.Number, 0.5), 9);
    }
}
