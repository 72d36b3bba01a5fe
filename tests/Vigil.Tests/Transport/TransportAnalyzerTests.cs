using Vigil.Transport;
using static Vigil.Tests.Transport.SyntheticMux;

namespace Vigil.Tests.Transport;

/// <summary>Framing (chunks, 204-byte packets, RTP, resync), raise and clear times, programmes and clocks.</summary>
public sealed class TransportAnalyzerTests
{
    private static bool VideoPayload(MuxPacket p) => p.Pid == VideoPid(1) && p.Carries == Carries.PesPayload && (p.Bytes[3] & 0x10) != 0;

    private static SyntheticMux WithLosses(params double[] times) => WithLosses(out _, times);

    private static SyntheticMux WithLosses(out List<double> lostAt, params double[] times)
    {
        var mux = new SyntheticMux(6);
        lostAt = [];
        foreach (var t in times)
        {
            var i = mux.Find(t, VideoPayload);
            lostAt.Add(mux.Packets[i].Time);
            mux.Packets[i] = Null(mux.Packets[i].Time);
        }
        return mux;
    }

    [Fact]
    public void A_clean_multiplex_reports_its_programme_and_counts()
    {
        var mux = new SyntheticMux(4);
        var run = TransportRun.Of(mux.Build());
        Assert.Empty(run.Events);
        Assert.Equal(mux.Packets.Count, run.Analyzer.Packets);
        Assert.Equal(188, run.Analyzer.PacketSize);
        Assert.Equal(188 * 8 / PacketTime, run.Analyzer.BitsPerSecond, 0);
        var program = Assert.Single(run.Analyzer.Programs);
        Assert.Equal(ProgramNumber(1), program.Number);
        Assert.Equal(VideoPid(1), program.PcrPid);
        Assert.True(program.IsTelevision);
        Assert.Equal([StreamKind.Video, StreamKind.Audio], program.Streams.Select(s => s.Kind));
        var video = run.Analyzer.Pid(VideoPid(1))!;
        Assert.Equal(mux.Packets.Count(p => p.Pid == VideoPid(1)), video.Packets);
        Assert.Equal(mux.Packets.Count(p => p.HasPcr), video.Pcrs);
        Assert.Equal(mux.Packets.Count(p => p.Pid == VideoPid(1) && p.Carries == Carries.PesStart), video.Pts);
    }

    [Fact]
    public void A_point_failure_is_raised_at_its_time_and_cleared_a_second_later_at_the_same_time()
    {
        var mux = WithLosses(out var lostAt, 2.0);
        var lost = lostAt[0];
        var run = TransportRun.Of(mux.Build());
        var raised = Assert.Single(run.Raised(Indicator.ContinuityCountError));
        var cleared = Assert.Single(run.Cleared(Indicator.ContinuityCountError));
        var next = mux.TransportTime(mux.Packets.First(p => VideoPayload(p) && p.Time > lost).Time); // the error shows on the next packet
        Assert.Equal(next, raised.Time, 6);
        Assert.Equal(next, cleared.Time, 6);
        Assert.Equal(VideoPid(1), raised.Pid);
        Assert.Equal(ProgramNumber(1), raised.Program);
        Assert.Equal(1, cleared.Count);
        var lostEvent = Assert.Single(run.Events, e => e.Kind == TransportEventKind.PacketsLost);
        Assert.Equal(1, lostEvent.Count);
        // the clear is emitted only after a second without failure
        Assert.True(run.Events.IndexOf(cleared) > run.Events.IndexOf(raised));
    }

    [Fact]
    public void Failures_within_the_clear_interval_are_one_defect_with_their_count()
    {
        var run = TransportRun.Of(WithLosses(1.0, 1.5, 1.9, 4.0).Build());
        var cleared = run.Cleared(Indicator.ContinuityCountError).ToList();
        Assert.Equal([3L, 1L], cleared.Select(c => c.Count));
        Assert.Equal(2, run.Raised(Indicator.ContinuityCountError).Count());
        Assert.Equal(4, run.Count(Indicator.ContinuityCountError));
    }

    [Fact]
    public void A_gap_is_failing_from_its_limit_until_the_next_occurrence()
    {
        var mux = new SyntheticMux(5);
        mux.Omit(p => p.Carries == Carries.Pat && p.Time > 0.95 && p.Time < 1.95);
        var before = mux.Packets.Last(p => p.Carries == Carries.Pat && p.Time < 0.95).Time;
        var after = mux.Packets.First(p => p.Carries == Carries.Pat && p.Time > 1.95).Time;
        var run = TransportRun.Of(mux.Build());
        Assert.Equal(mux.TransportTime(before) + 0.5, Assert.Single(run.Raised(Indicator.PatError)).Time, 6);
        Assert.Equal(mux.TransportTime(after), Assert.Single(run.Cleared(Indicator.PatError)).Time, 6);
    }

    [Fact]
    public void A_pid_that_stops_stays_raised_to_the_end()
    {
        var mux = new SyntheticMux(5);
        mux.Omit(p => p.Pid == AudioPid(1) && p.Time >= 2.0);
        var last = mux.Packets.Last(p => p.Pid == AudioPid(1)).Time;
        var run = TransportRun.Of(mux.Build());
        var raised = Assert.Single(run.Raised(Indicator.PidError));
        Assert.Equal(AudioPid(1), raised.Pid);
        Assert.Equal(mux.TransportTime(last) + 1.0, raised.Time, 6);
        Assert.Empty(run.Cleared(Indicator.PidError));
    }

    [Fact]
    public void A_pid_the_pmt_lists_that_never_comes_is_a_pid_error()
    {
        var mux = new SyntheticMux(3);
        mux.Omit(p => p.Pid == AudioPid(1));
        var run = TransportRun.Of(mux.Build());
        Assert.Equal(AudioPid(1), Assert.Single(run.Raised(Indicator.PidError)).Pid);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(188)]
    [InlineData(1316)]
    [InlineData(65536)]
    public void Any_chunking_gives_the_same_events(int chunk)
    {
        var bytes = WithLosses(1.0, 2.5).Build();
        Assert.Equal(TransportRun.Of(bytes, bytes.Length).Events, TransportRun.Of(bytes, chunk).Events);
    }

    [Fact]
    public void Packets_of_204_bytes_give_the_same_events()
    {
        var bytes = WithLosses(1.0, 2.5).Build();
        var run = TransportRun.Of(MuxDamage.To204(bytes), 999);
        Assert.Equal(204, run.Analyzer.PacketSize);
        Assert.Equal(TransportRun.Of(bytes).Events, run.Events);
    }

    [Fact]
    public void Rtp_headers_are_stripped_and_a_lost_datagram_counted()
    {
        var mux = new SyntheticMux(4);
        var datagrams = MuxDamage.ToRtp(mux.Build());
        var dropped = datagrams.Count / 2;
        var pidsInDropped = Enumerable.Range(dropped * 7, 7).Select(i => mux.Packets[i])
            .Where(p => p.Pid != TsPacket.NullPid && (p.Bytes[3] & 0x10) != 0).Select(p => p.Pid).Distinct().Count();
        var run = new TransportRun();
        for (var i = 0; i < datagrams.Count; i++)
            if (i != dropped) run.Analyzer.FeedDatagram(datagrams[i]);
        run.Analyzer.Finish();
        Assert.Equal(datagrams.Count - 1, run.Analyzer.RtpDatagrams);
        Assert.Equal(1, run.Analyzer.RtpLostDatagrams);
        Assert.True(pidsInDropped > 0);
        Assert.Equal(pidsInDropped, run.Count(Indicator.ContinuityCountError));
    }

    [Fact]
    public void Garbage_bytes_lose_sync_and_it_is_found_again()
    {
        var mux = new SyntheticMux(3);
        var bytes = mux.Build().ToList();
        var at = mux.Find(1.0, p => p.Pid == TsPacket.NullPid);
        bytes.Insert(at * 188, 0x00); // one byte too many before a null packet
        var run = TransportRun.Of(bytes.ToArray());
        Assert.Equal(new Dictionary<Indicator, long> { [Indicator.SyncByteError] = 2, [Indicator.SyncLoss] = 1 }, run.Failed());
        Assert.Single(run.Cleared(Indicator.SyncLoss));
        Assert.Equal(mux.Packets.Count - 1, run.Analyzer.Packets);
    }

    [Fact]
    public void Bytes_that_are_not_a_transport_stream_report_nothing()
    {
        var noise = new byte[100_000];
        new Random(7).NextBytes(noise);
        for (var i = 0; i < noise.Length; i++) if (noise[i] == 0x47) noise[i] = 0x48;
        var run = TransportRun.Of(noise);
        Assert.False(run.Analyzer.IsTransportStream);
        Assert.Empty(run.Events);
    }

    [Fact]
    public void Each_programme_of_a_multiplex_has_its_own_pids_events_and_clock()
    {
        var mux = new SyntheticMux(4, programs: 3);
        var i = mux.Find(1.0, p => p.Pid == VideoPid(2) && p.Carries == Carries.PesPayload && (p.Bytes[3] & 0x10) != 0);
        var t = mux.Packets[i].Time;
        mux.Packets[i] = Null(t);
        var run = TransportRun.Of(mux.Build());
        Assert.Equal([1001, 1002, 1003], run.Analyzer.Programs.Select(p => p.Number));
        var raised = Assert.Single(run.Raised(Indicator.ContinuityCountError));
        Assert.Equal((VideoPid(2), ProgramNumber(2)), (raised.Pid, raised.Program));
        Assert.Equal(1, run.Analyzer.Programs[1].Counts[(int)Indicator.ContinuityCountError]);
        Assert.Equal(0, run.Analyzer.Programs[0].Counts[(int)Indicator.ContinuityCountError]);
        // each clock reads its own PCRs: programme n runs n − 1 hours ahead of the first
        for (var n = 1; n <= 3; n++)
            Assert.Equal(ClockStart(n) + t, run.Analyzer.ClockAt(ProgramNumber(n), mux.TransportTime(t)), 6);
        Assert.Equal(run.Analyzer.ClockAt(ProgramNumber(1), 1.0), run.Analyzer.ClockAt(0, 1.0));
    }

    [Fact]
    public void The_hot_loop_allocates_nothing()
    {
        var bytes = new SyntheticMux(6, programs: 2).Build();
        var run = new TransportRun();
        var half = bytes.Length / 2 / 188 * 188;
        run.Analyzer.Feed(bytes.AsSpan(0, half)); // PID states and tables are built here, every path is run once
        run.Analyzer.Feed(bytes.AsSpan(half, 188 * 1000));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = half + 188 * 1000; i < bytes.Length; i += 1316) run.Analyzer.Feed(bytes.AsSpan(i, Math.Min(1316, bytes.Length - i)));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
