using Vigil.Media;
using Vigil.Tests.Service.Support;
using Vigil.Tools.Bench;
using Xunit.Abstractions;

namespace Vigil.Tests.Media;

/// <summary>
/// A supervisor opens and closes the converter on every reconnect, for as long as the service runs: each
/// closing must give back the native memory its opening took (the demuxer, decoders, the UDP receive FIFO,
/// the transport tap's I/O contexts), on the error paths too. Counted process-wide in the C heap (glibc's
/// mallinfo2, all arenas), so these run alone, after the parallel tests.
/// </summary>
[Collection(nameof(Vigil.Tests.Performance.Solo))]
public sealed class ConverterCycleTests(ITestOutputHelper output)
{
    private const int WarmUp = 2, Cycles = 8;

    /// <summary>C heap still in use after the measured cycles beyond where the warm-up left it: FFmpeg's one-off tables and the JIT are warm-up.</summary>
    private const double MaxGrowthMiB = 1.5;

    public static TheoryData<string> Feeds => new() { "live", "dead", "garbage" };

    /// <summary>
    /// Expected: opening a live UDP feed, reading a second of it and closing, or failing to open a port nothing
    /// sends to (the open timeout) or one that gets only random bytes, 8 times over leaves the C heap in use within
    /// 1.5 MiB of where 2 warm-up cycles left it. One opening's native state is several MiB (a 640x360 decoder's
    /// pictures, FFmpeg's 5.4 MB UDP FIFO), so a cycle that leaked any of it would show many times over.
    /// </summary>
    [Theory]
    [MemberData(nameof(Feeds))]
    public async Task OpenReadClose_Cycles_GiveBackTheNativeMemory(string feed)
    {
        if (double.IsNaN(ProcessMemory.Now().MallocInUseMiB)) Assert.Fail("no glibc mallinfo2 here: the C heap cannot be counted");
        var port = Net.FreeUdpPort();
        await using var live = feed == "live" ? FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 600)) : null;
        await using var garbage = feed == "garbage" ? new GarbageSender(port, seconds: 120, datagramsPerSecond: 200) : null;
        var options = new MediaOpenOptions { OpenTimeout = TimeSpan.FromSeconds(feed == "live" ? 15 : 1), IoTimeout = TimeSpan.FromSeconds(5) };
        var opened = 0;
        void Cycle()
        {
            try
            {
                using var source = MediaSource.Open($"udp://127.0.0.1:{port}", options);
                opened++;
                for (int items = 0, pictures = 0; pictures < 25 && items < 10_000; items++)
                {
                    var item = source.Read();
                    if (item.Kind == MediaItemKind.End) break;
                    if (item.Video is { } frame) { pictures++; frame.Release(); }
                    item.Audio?.Release();
                }
            }
            catch (MediaException) when (feed != "live")
            {
                // the dead and garbage feeds fail to open: that is the path under test
            }
        }
        for (var i = 0; i < WarmUp; i++) Cycle();
        var before = InUse();
        var samples = new List<double>();
        for (var i = 0; i < Cycles; i++)
        {
            Cycle();
            samples.Add(InUse());
        }
        output.WriteLine($"{feed}: C heap in use after warm-up {before:0.00} MiB; after each cycle {string.Join(", ", samples.Select(s => $"{s:0.00}"))} MiB; {opened} opened");
        if (feed == "live") Assert.Equal(WarmUp + Cycles, opened);
        else Assert.Equal(0, opened);
        Assert.True(samples[^1] - before < MaxGrowthMiB, $"{feed}: {samples[^1] - before:0.00} MiB more in use after {Cycles} cycles");
    }

    /// <summary>
    /// Expected: a live UDP input holds its big buffers (libavformat's 5.4 MB receive FIFO above all) in mappings of
    /// their own, and closing it gives them back to the system: the C heap's free lists do not grow by them. The
    /// first input is opened and closed before the one measured, because it is glibc's dynamic mmap threshold,
    /// raised by that first close to the FIFO's size, that would put the next FIFO into the heap (the shim fixes
    /// the threshold instead): a service reconnecting for weeks then leaves such holes in every thread's arena.
    /// </summary>
    [Fact]
    public async Task LiveInput_BigBuffersInTheirOwnMappings_GivenBackOnClose()
    {
        if (double.IsNaN(ProcessMemory.Now().MallocMappedMiB)) Assert.Fail("no glibc mallinfo2 here: the C heap cannot be counted");
        var port = Net.FreeUdpPort();
        await using var live = FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 600));
        var options = new MediaOpenOptions { IoTimeout = TimeSpan.FromSeconds(5) };
        void ReadSome(MediaSource source)
        {
            for (int items = 0, pictures = 0; pictures < 25 && items < 10_000; items++)
            {
                var item = source.Read();
                if (item.Kind == MediaItemKind.End) break;
                if (item.Video is { } frame) { pictures++; frame.Release(); }
                item.Audio?.Release();
            }
        }
        using (var first = MediaSource.Open($"udp://127.0.0.1:{port}", options)) ReadSome(first);
        var before = Now();
        ProcessMemory open, closed;
        using (var source = MediaSource.Open($"udp://127.0.0.1:{port}", options))
        {
            ReadSome(source);
            open = Now();
        }
        closed = Now();
        output.WriteLine($"C heap mapped {before.MallocMappedMiB:0.00} -> {open.MallocMappedMiB:0.00} (open) -> {closed.MallocMappedMiB:0.00} MiB (closed); " +
                         $"free held {before.MallocFreeMiB:0.00} -> {open.MallocFreeMiB:0.00} -> {closed.MallocFreeMiB:0.00} MiB");
        Assert.True(open.MallocMappedMiB - before.MallocMappedMiB > 5, "the open input's FIFO is not in a mapping of its own");
        Assert.True(open.MallocMappedMiB - closed.MallocMappedMiB > 5, "closing did not unmap the input's FIFO");
        Assert.True(closed.MallocFreeMiB - before.MallocFreeMiB < 2, $"closing left {closed.MallocFreeMiB - before.MallocFreeMiB:0.00} MiB free in the heap");
    }

    private static ProcessMemory Now()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return ProcessMemory.Now();
    }

    private static double InUse()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers(); // what the managed side holds natively goes with its finalizers
        GC.Collect();
        return ProcessMemory.Now().MallocInUseMiB;
    }
}
