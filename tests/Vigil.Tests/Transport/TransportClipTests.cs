using Vigil.Events;
using Vigil.Tests.Support;
using Vigil.Tools.Transport;
using Vigil.Transport;

namespace Vigil.Tests.Transport;

/// <summary>
/// The transport analysis end to end (shim tap → analyser → ts.* detectors, summary): a constant-rate
/// transport stream generated with the ffmpeg CLI at test time (PCR every 20 ms, so the clean stream passes
/// every indicator), each fault written into its bytes at a known time and PID (<see cref="TsFaults"/>).
/// </summary>
public sealed class TransportClipTests
{
    /// <summary>8 s of 320×240 H.264 and AAC at 1 Mb/s CBR, PCR every 20 ms.</summary>
    internal static Task<string> Clean() => TestClips.Generate("transport-cbr.ts",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=8 -f lavfi -i sine=frequency=440:duration=8 " +
        "-c:v libx264 -preset ultrafast -g 25 -b:v 300k -c:a aac -b:a 64k -muxrate 1000k -pcr_period 20 -f mpegts");

    private static async Task<(Analysis.Result Result, TsFaults Faults)> DamagedAsync(string name, Action<TsFaults> damage)
    {
        var faults = new TsFaults(await File.ReadAllBytesAsync(await Clean()));
        damage(faults);
        var path = Path.Combine(TestClips.WorkFolder, $"transport-{name}.ts");
        await File.WriteAllBytesAsync(path, faults.Build());
        return (await Analysis.RunAsync(path, "ts,stream.discontinuity"), faults);
    }

    private static Dictionary<string, long> Failed(Analysis.Result r) =>
        r.Summary.Transport!.Counts.Where(c => c.Value > 0).ToDictionary(c => c.Key, c => c.Value);

    [Fact]
    public async Task A_clean_constant_rate_stream_passes_every_indicator()
    {
        var r = await Analysis.RunAsync(await Clean(), "ts,stream.discontinuity");
        Assert.NotNull(r.Summary.Transport);
        Assert.Equal(13, r.Summary.Transport!.Counts.Count);
        Assert.Empty(Failed(r));
        Assert.Empty(r.Ended);
    }

    /// <summary>
    /// FFmpeg's muxer without a mux rate spaces PCRs at the largest multiple of a frame up to 100 ms (80 ms at
    /// 25 fps, 100 ms at 30): within ISO/IEC 13818-1, over DVB's 40 ms. Such a stream is what most streaming
    /// encoders send; held to the DVB limit it would be in alarm from its first second to its last.
    /// </summary>
    [Theory]
    [InlineData("transport-vbr-25.ts", "25")]
    [InlineData("transport-vbr-30.ts", "30")]
    [InlineData("transport-vbr-2997.ts", "30000/1001")]
    public async Task A_variable_rate_stream_with_pcrs_under_100_ms_passes_every_indicator(string name, string rate)
    {
        var path = await TestClips.Generate(name,
            $"-f lavfi -i testsrc2=size=320x240:rate={rate}:duration=6 -f lavfi -i sine=frequency=440:duration=6 " +
            "-c:v libx264 -preset ultrafast -c:a aac -b:a 64k -f mpegts");
        var bytes = await File.ReadAllBytesAsync(path);
        var pcrs = new List<long>();
        for (var i = 0; i + 188 <= bytes.Length; i += 188)
            if (TsPacket.Pcr(bytes.AsSpan(i, 188)) is >= 0 and var pcr) pcrs.Add(pcr);
        var widest = pcrs.Zip(pcrs.Skip(1)).Max(p => p.Second - p.First) / TsPacket.ClockHz;
        Assert.InRange(widest, 0.041, 0.100); // precondition: over the DVB limit, within ISO's
        var r = await Analysis.RunAsync(path, "ts,stream.discontinuity");
        Assert.Empty(Failed(r));
        Assert.Empty(r.Ended);
    }

    [Fact]
    public async Task A_variable_rate_stream_is_still_held_to_100_ms_between_pcrs()
    {
        var clean = await TestClips.Generate("transport-vbr-25.ts",
            "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -f lavfi -i sine=frequency=440:duration=6 " +
            "-c:v libx264 -preset ultrafast -c:a aac -b:a 64k -f mpegts");
        var faults = new TsFaults(await File.ReadAllBytesAsync(clean));
        faults.PcrGap(3.0, 0.100); // one 80 ms interval becomes 160 ms or more
        var path = Path.Combine(TestClips.WorkFolder, "transport-vbr-pcr-gap.ts");
        await File.WriteAllBytesAsync(path, faults.Build());
        var r = await Analysis.RunAsync(path, "ts,stream.discontinuity");
        Assert.Equal(1, Failed(r).GetValueOrDefault("pcr_repetition_error"));
        Assert.Equal(faults.PcrPid, (int)Assert.Single(r.Of("ts.pcr_repetition_error")).Details!["pid"]);
    }

    public static TheoryData<string, int, long> Losses => new() { { "lose-1", 1, 1 }, { "lose-3", 3, 1 }, { "lose-7", 7, 1 } };

    [Theory]
    [MemberData(nameof(Losses))]
    public async Task Lost_video_packets_are_one_continuity_error_and_their_count_in_the_discontinuity(string name, int lost, long errors)
    {
        var at = 0.0;
        var (r, f) = await DamagedAsync(name, d => { at = d.TimeOfFirst(d.VideoPid, 3.0); d.Lose(d.VideoPid, 3.0, lost); });
        Assert.Equal(new Dictionary<string, long> { ["continuity_count_error"] = errors }, Failed(r));
        var cc = Assert.Single(r.Of("ts.continuity_count_error"));
        Assert.Equal(f.VideoPid, (int)cc.Details!["pid"]);
        Assert.Equal(1, cc.Details["count"]);
        // the transport failed when the packet went missing: on the programme clock, ahead of the picture it carried
        Assert.InRange(cc.Start, f.MediaTimeOf(at) - 0.05, f.MediaTimeOf(at) + 0.05);
        var discontinuity = Assert.Single(r.Of("stream.discontinuity"));
        Assert.Equal(lost, discontinuity.Details!["lost_packets"]);
    }

    [Fact]
    public async Task A_packet_sent_twice_is_allowed_three_times_is_an_error()
    {
        var (twice, _) = await DamagedAsync("repeat-2", d => d.Repeat(d.VideoPid, 3.0, 2));
        Assert.Empty(Failed(twice));
        var (thrice, _) = await DamagedAsync("repeat-3", d => d.Repeat(d.VideoPid, 3.0, 3));
        Assert.Equal(new Dictionary<string, long> { ["continuity_count_error"] = 1 }, Failed(thrice));
    }

    [Fact]
    public async Task Two_packets_swapped_are_three_steps_out_of_order()
    {
        var (r, _) = await DamagedAsync("swap", d => d.Swap(d.VideoPid, 3.0));
        Assert.Equal(new Dictionary<string, long> { ["continuity_count_error"] = 3 }, Failed(r));
        Assert.Single(r.Of("ts.continuity_count_error")); // one incident
    }

    [Fact]
    public async Task A_pat_absent_for_a_second_is_a_pat_error_from_half_a_second_after_the_last()
    {
        var (r, _) = await DamagedAsync("no-pat", d => d.Omit(TsPacket.PatPid, 3.0, 1.0));
        Assert.Equal(new Dictionary<string, long> { ["pat_error"] = 1 }, Failed(r));
        var pat = Assert.Single(r.Of("ts.pat_error"));
        Assert.Equal(0, pat.Details!["pid"]);
        Assert.InRange(pat.End!.Value - pat.Start, 0.3, 0.7); // failing from 0.5 s after the last PAT until the next, 1 s later
    }

    [Fact]
    public async Task A_pmt_absent_for_a_second_is_a_pmt_error()
    {
        var (r, f) = await DamagedAsync("no-pmt", d => d.Omit(d.PmtPid, 3.0, 1.0));
        Assert.Equal(new Dictionary<string, long> { ["pmt_error"] = 1 }, Failed(r));
        Assert.Equal(f.PmtPid, (int)Assert.Single(r.Of("ts.pmt_error")).Details!["pid"]);
    }

    [Fact]
    public async Task A_flipped_crc_byte_is_a_crc_error()
    {
        var (pat, _) = await DamagedAsync("crc-pat", d => d.FlipCrc(TsPacket.PatPid, 3.0));
        Assert.Equal(new Dictionary<string, long> { ["crc_error"] = 1 }, Failed(pat));
        var (pmt, f) = await DamagedAsync("crc-pmt", d => d.FlipCrc(d.PmtPid, 3.0));
        Assert.Equal(new Dictionary<string, long> { ["crc_error"] = 1 }, Failed(pmt));
        Assert.Equal(f.PmtPid, (int)Assert.Single(pmt.Of("ts.crc_error")).Details!["pid"]);
    }

    [Fact]
    public async Task A_100_ms_pcr_gap_is_a_pcr_repetition_error()
    {
        var (r, f) = await DamagedAsync("pcr-gap", d => d.PcrGap(3.0, 0.100));
        // ground truth from the damaged bytes: the gap between the two PCRs that remain either side of it
        var bytes = await File.ReadAllBytesAsync(Path.Combine(TestClips.WorkFolder, "transport-pcr-gap.ts"));
        var pcrs = new List<long>();
        for (var i = 0; i < bytes.Length; i += 188)
            if (TsPacket.Pid(bytes.AsSpan(i)) == f.PcrPid && TsPacket.Pcr(bytes.AsSpan(i, 188)) is >= 0 and var pcr) pcrs.Add(pcr);
        var gap = pcrs.Zip(pcrs.Skip(1)).Max(p => p.Second - p.First) / TsPacket.ClockHz;
        Assert.InRange(gap, 0.100, 0.101);
        var expected = new Dictionary<string, long> { ["pcr_repetition_error"] = 1 };
        if (gap > 0.100) expected["pcr_discontinuity_indicator_error"] = 1; // TR 101 290 2.3b: more than 100 ms apart
        Assert.Equal(expected, Failed(r));
        Assert.Equal(f.PcrPid, (int)Assert.Single(r.Of("ts.pcr_repetition_error")).Details!["pid"]);
    }

    [Fact]
    public async Task An_800_ms_pts_gap_is_a_pts_error()
    {
        var (r, f) = await DamagedAsync("pts-gap", d => d.PtsGap(d.VideoPid, 3.0, 0.8));
        Assert.Equal(new Dictionary<string, long> { ["pts_error"] = 1 }, Failed(r));
        Assert.Equal(f.VideoPid, (int)Assert.Single(r.Of("ts.pts_error")).Details!["pid"]);
    }

    [Fact]
    public async Task A_pid_of_the_pmt_that_stops_is_a_pid_error_to_the_end()
    {
        var (r, f) = await DamagedAsync("pid-stops", d => d.Stop(d.AudioPid, 4.0));
        // the PTS stop with the packets: both indicators fail on the audio PID
        Assert.Equal(new Dictionary<string, long> { ["pid_error"] = 1, ["pts_error"] = 1 }, Failed(r));
        var pid = Assert.Single(r.Of("ts.pid_error"));
        Assert.Equal(f.AudioPid, (int)pid.Details!["pid"]);
        Assert.Equal(ClosedBy.EndOfInput, pid.ClosedBy);
        var failing = f.MediaTimeOf(f.TimeOfLast(f.AudioPid) + 1.0); // a second after the last audio packet
        Assert.InRange(pid.Start, failing - 0.05, failing + 0.05);
    }

    [Fact]
    public async Task Other_containers_have_no_transport_analysis()
    {
        var r = await Analysis.RunAsync(await TestClips.Mp4WithAudio(), "ts");
        Assert.Null(r.Summary.Transport);
        Assert.Empty(r.Ended);
    }
}
