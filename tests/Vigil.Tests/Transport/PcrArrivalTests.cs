using Vigil.Detectors;
using Vigil.Media;
using Vigil.Tests.Support;
using Vigil.Transport;

namespace Vigil.Tests.Transport;

/// <summary>
/// 2.4 on a live input, the analyser alone: a variable-rate transport stream made by the ffmpeg CLI (no null
/// packets, so its bytes say nothing of time) fed datagram by datagram with arrival times built from its own
/// PCRs (<see cref="PacedTs"/>): the truth is known by construction and every run is the same. Wrong PCRs
/// (values rewritten in the bytes) must be found on their PID; delays of every kind a receiver sees (a loaded
/// reader, a sender's pause and burst, a reader that starts far behind, a sender clock 50 ppm off) must not
/// raise anything. The same path over real UDP sockets: <see cref="PcrArrivalLiveTests"/>.
/// </summary>
public sealed class PcrArrivalTests
{
    /// <summary>60 s of 320×240 H.264 and AAC, variable rate (no -muxrate): PCRs every 80 ms, no null packets.</summary>
    internal static Task<string> Vbr() => TestClips.Generate("pcr-arrival-vbr.ts",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=60 -f lavfi -i sine=frequency=440:duration=60 " +
        "-c:v libx264 -preset ultrafast -g 50 -c:a aac -b:a 64k -f mpegts");

    private static async Task<PacedTs> Stream() => new(await File.ReadAllBytesAsync(await Vbr()));

    /// <summary>A prompt path: 100 µs.</summary>
    private static double Prompt(int d, double sent) => sent + 100e-6;

    /// <summary>
    /// A loaded receiver: the reader comes back to the socket every 1 to 20 ms (often), 20 to 80 ms (now and
    /// then) or 80 to 300 ms (rarely: a scheduler starving it on a machine with load 10 on 2 cores), and takes
    /// everything that waited. Seeded.
    /// </summary>
    private static Func<int, double, double> LoadedReader(int seed)
    {
        var random = new Random(seed);
        var wake = 0.0;
        return (_, sent) =>
        {
            while (wake < sent + 50e-6)
            {
                var r = random.NextDouble();
                wake += r < 0.80 ? 0.001 + 0.019 * random.NextDouble() : r < 0.98 ? 0.020 + 0.060 * random.NextDouble() : 0.080 + 0.220 * random.NextDouble();
            }
            return wake + 20e-6 * random.NextDouble();
        };
    }

    private static string Times(TransportRun run) => string.Join(", ", run.Raised(Indicator.PcrAccuracyError).Select(e => $"{e.Time:F3}"));

    private static void AssertNoAccuracyErrors(TransportRun run)
    {
        Assert.True(run.Count(Indicator.PcrAccuracyError) == 0, $"{run.Count(Indicator.PcrAccuracyError)} errors, raised at {Times(run)}");
        Assert.Empty(run.Raised(Indicator.PcrAccuracyError));
    }

    [Fact]
    public async Task A_paced_variable_rate_stream_has_accurate_pcrs()
    {
        var ts = await Stream();
        var run = ts.Receive(Prompt);
        AssertNoAccuracyErrors(run);
        Assert.True(run.Analyzer.Pid(ts.PcrPid)!.Pcrs > 700, "60 s of PCRs every 80 ms were there to judge");
        Assert.Null(run.Analyzer.Pid(TsPacket.NullPid)); // no stuffing: the bytes carry no clock of their own
    }

    [Fact]
    public async Task Pcrs_shifted_5_ms_ahead_of_their_bytes_are_errors_on_the_pcr_pid()
    {
        var ts = await Stream();
        var shifted = new[] { 10.0, 20.0, 30.0, 40.0 }.Select(ts.PcrAt).ToArray();
        foreach (var k in shifted) ts.Shift(k, 0.005);

        var run = ts.Receive(Prompt);

        Assert.True(shifted.Length == run.Count(Indicator.PcrAccuracyError), $"{run.Count(Indicator.PcrAccuracyError)} errors, raised at {Times(run)}");
        var raised = run.Raised(Indicator.PcrAccuracyError).ToList();
        Assert.All(raised, e => Assert.Equal(ts.PcrPid, e.Pid));
        Assert.All(raised, e => Assert.NotEqual(0, e.Program));
        // each one a defect of its own (10 s apart), raised at its PCR's transport time and cleared with count 1
        Assert.Equal(shifted.Select(k => ts.PcrTime(k)), raised.Select(e => e.Time), new ToleranceComparer(0.01));
        Assert.All(run.Cleared(Indicator.PcrAccuracyError), e => Assert.Equal(1, e.Count));
        Assert.Equal(shifted.Length, run.Analyzer.Programs[0].Counts[(int)Indicator.PcrAccuracyError]);
    }

    [Fact]
    public async Task The_same_bytes_as_a_file_are_judged_from_the_mux_rate_alone()
    {
        // a file's answer never depends on arrival times: a variable-rate mux has no byte clock, so nothing is judged
        var ts = await Stream();
        foreach (var k in new[] { 10.0, 20.0, 30.0, 40.0 }.Select(ts.PcrAt)) ts.Shift(k, 0.005);
        var run = new TransportRun();
        for (var d = 0; d < ts.Datagrams; d++) run.Analyzer.FeedDatagram(ts.Datagram(d));
        run.Analyzer.Finish();
        AssertNoAccuracyErrors(run);
    }

    [Fact]
    public async Task A_pcr_behind_its_bytes_is_not_judged_since_it_looks_like_bytes_that_waited()
    {
        var ts = await Stream();
        foreach (var k in new[] { 10.0, 20.0, 30.0, 40.0 }.Select(ts.PcrAt)) ts.Shift(k, -0.005);
        AssertNoAccuracyErrors(ts.Receive(Prompt));
    }

    [Fact]
    public async Task Three_consecutive_wrong_pcrs_are_three_errors_in_one_defect()
    {
        var ts = await Stream();
        var first = ts.PcrAt(25.0);
        for (var k = first; k < first + 3; k++) ts.Shift(k, 0.004);
        var run = ts.Receive(Prompt);
        Assert.Equal(3, run.Count(Indicator.PcrAccuracyError));
        Assert.Single(run.Raised(Indicator.PcrAccuracyError));
        Assert.Equal(3, Assert.Single(run.Cleared(Indicator.PcrAccuracyError)).Count);
    }

    [Fact]
    public async Task Jitter_injected_into_every_pcr_from_some_point_on_is_found()
    {
        // a remux gone wrong at 30 s: from there every PCR off by up to ±8 ms
        var ts = await Stream();
        var random = new Random(7);
        for (var k = ts.PcrAt(30.0); k < ts.Pcrs.Length; k++) ts.Shift(k, (random.NextDouble() * 2 - 1) * 0.008);
        var run = ts.Receive(Prompt);
        Assert.InRange(run.Count(Indicator.PcrAccuracyError), 3, ts.Pcrs.Length);
        Assert.All(run.Raised(Indicator.PcrAccuracyError), e => Assert.True(e.Time >= 29.9, $"raised at {e.Time} s, before the jitter"));
    }

    // ---- traps: delays only ----

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_loaded_reader_that_takes_bytes_late_and_in_bursts_raises_nothing(int seed)
    {
        AssertNoAccuracyErrors((await Stream()).Receive(LoadedReader(seed)));
    }

    [Fact]
    public async Task A_loaded_reader_still_finds_pcrs_far_ahead_of_their_bytes()
    {
        var ts = await Stream();
        var shifted = new[] { 10.0, 20.0, 30.0, 40.0 }.Select(ts.PcrAt).ToArray();
        // 18 ms: as far as a PCR can move without a step over 100 ms (2.3b) at this 80 ms cadence
        foreach (var k in shifted) ts.Shift(k, 0.018);
        var run = ts.Receive(LoadedReader(1));
        // a read that waited over 16 ms hides a shift; half of them at least show
        Assert.True(run.Count(Indicator.PcrAccuracyError) is >= 2 and <= 4, $"{run.Count(Indicator.PcrAccuracyError)} errors, raised at {Times(run)}");
        Assert.All(run.Raised(Indicator.PcrAccuracyError), e => Assert.Equal(ts.PcrPid, e.Pid));
    }

    [Fact]
    public async Task A_sender_that_pauses_300_ms_then_bursts_raises_nothing()
    {
        var run = (await Stream()).Receive((d, sent) => (sent is >= 20.0 and < 20.3 ? 20.3 : sent) + 100e-6);
        AssertNoAccuracyErrors(run);
    }

    [Theory]
    [InlineData(50)]
    [InlineData(-50)]
    public async Task A_sender_clock_50_ppm_off_is_fitted_out(double ppm)
    {
        // 60 s at 50 ppm: the bytes drift 3 ms against their PCRs, past the 2 ms tolerance
        var ts = await Stream();
        var run = ts.Receive((d, sent) => sent * (1 - ppm * 1e-6) + 100e-6);
        AssertNoAccuracyErrors(run);
        Assert.InRange(run.Analyzer.ArrivalDrift(ts.PcrPid) * 1e6, -ppm - 10, -ppm + 10);
    }

    [Fact]
    public async Task A_reader_400_ms_behind_for_15_s_that_catches_up_raises_nothing()
    {
        // longer than the floor's 10 s window: the floor it learnt is 400 ms too high, and comes down at once
        var run = (await Stream()).Receive((d, sent) => sent + 100e-6 + (sent < 15 ? 0.4 : Math.Max(0, 0.4 - (sent - 15) / 2)));
        AssertNoAccuracyErrors(run);
    }

    [Fact]
    public async Task A_reader_behind_then_caught_up_still_finds_a_wrong_pcr_after()
    {
        var ts = await Stream();
        var shifted = ts.PcrAt(30.0);
        ts.Shift(shifted, 0.005);
        var run = ts.Receive((d, sent) => sent + 100e-6 + (sent < 15 ? 0.4 : Math.Max(0, 0.4 - (sent - 15) / 2)));
        Assert.Equal(1, run.Count(Indicator.PcrAccuracyError));
    }

    [Fact]
    public async Task A_constant_rate_live_stream_is_judged_by_arrival_too()
    {
        // CBR: a 5 ms shift is far past the mux-rate method's reach (it takes a jump over 1 ms for a change of rate)
        var ts = new PacedTs(await File.ReadAllBytesAsync(await TransportClipTests.Clean()));
        var shifted = new[] { 3.5, 5.0, 6.5 }.Select(ts.PcrAt).ToArray();
        foreach (var k in shifted) ts.Shift(k, 0.005);
        Assert.Equal(shifted.Length, ts.Receive(Prompt).Count(Indicator.PcrAccuracyError));
        // one PCR 2 µs off: the mux-rate method's error, counted once although the arrival method runs beside it
        var nudged = new PacedTs(await File.ReadAllBytesAsync(await TransportClipTests.Clean()));
        nudged.Shift(nudged.PcrAt(4.0), 2e-6);
        Assert.Equal(1, nudged.Receive(Prompt).Count(Indicator.PcrAccuracyError));
    }

    [Fact]
    public async Task The_tolerance_is_the_option_ts_pcr_accuracy_error_arrival_accuracy()
    {
        var open = DetectorCatalog.DecodeFor(DetectorCatalog.Select("ts"), new MediaOpenOptions(),
            DetectorSettings.Parse(["ts.pcr_accuracy_error.arrival_accuracy=0.006"]));
        Assert.Equal(0.006, open.TransportLimits!.PcrArrivalAccuracy);
        Assert.Equal(0.002, DetectorCatalog.DecodeFor(DetectorCatalog.Select("ts"), new MediaOpenOptions(), DetectorSettings.Empty).TransportLimits!.PcrArrivalAccuracy);

        // 5 ms ahead is within a tolerance of 6 ms
        var ts = await Stream();
        foreach (var k in new[] { 10.0, 20.0, 30.0, 40.0 }.Select(ts.PcrAt)) ts.Shift(k, 0.005);
        AssertNoAccuracyErrors(ts.Receive(Prompt, open.TransportLimits));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
