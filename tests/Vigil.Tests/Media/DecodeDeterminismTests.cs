using System.Globalization;
using Vigil.Detectors;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;
using Vigil.Tools;
using Vigil.Tools.Corpus;

namespace Vigil.Tests.Media;

/// <summary>
/// Same input, same answer at any decode thread count. With frame threads FFmpeg decodes several pictures at
/// once: a corrupt packet is reported as it is demuxed while pictures come out packets later, and H.264's
/// concealment flag reaches the picture handed out or not depending on which thread copied it first. The
/// converter ties both to the packet they belong to; these clips (H.264 with B-pictures in MPEG-TS,
/// damaged at known packets as the corpus damages them) check it.
/// </summary>
public sealed class DecodeDeterminismTests : IClassFixture<DecodeDeterminismTests.Clips>
{
    public sealed class Clips : IDisposable
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), $"vigil-determinism-{Guid.NewGuid():N}");

        public Clips()
        {
            Directory.CreateDirectory(_folder);
            Dropped = Damage("testsrc2=size=640x360:rate=25:duration=6", "-crf 20", d => d.DropPackets(30, 3, 7).DropPackets(85, 3, 7));
            Garbled = Damage("mandelbrot=size=640x360:rate=25:maxiter=300,trim=duration=6", "-crf 23", d => d.GarblePackets(40, 2, 4, 1).GarblePackets(110, 2, 4, 7));
            IntraRefresh = Damage("testsrc2=size=640x360:rate=25:duration=6", "-crf 20 -bf 0 -intra-refresh 1", d => d.DropPackets(30, 3, 7).DropPackets(100, 3, 7));
        }

        /// <summary>7 TS packets dropped in frames 30 and 85 (continuity errors).</summary>
        public string Dropped { get; }

        /// <summary>4 TS packet payloads garbled in frames 40 and 110: only the decoder notices (it conceals).</summary>
        public string Garbled { get; }

        /// <summary>
        /// 7 TS packets dropped in frames 30 and 100 of an intra-refresh stream (no key frames, no B-pictures):
        /// with two threads FFmpeg decodes the concealed frame 100 differently in about one run in five.
        /// </summary>
        public string IntraRefresh { get; }

        private string Damage(string source, string quality, Action<TsDamage> damage)
        {
            var clean = Path.Combine(_folder, $"clean-{Guid.NewGuid():N}.ts");
            FfmpegCli.Run($"-y -v error -f lavfi -i {source} -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 50 -bf 2 {quality} -f mpegts \"{clean}\"");
            var damager = new TsDamage(File.ReadAllBytes(clean));
            damage(damager);
            var path = Path.Combine(_folder, $"damaged-{Guid.NewGuid():N}.ts");
            File.WriteAllBytes(path, damager.Build());
            return path;
        }

        public void Dispose() => Directory.Delete(_folder, recursive: true);
    }

    private readonly Clips _clips;

    public DecodeDeterminismTests(Clips clips) => _clips = clips;

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Read_CorruptPackets_EachEventLandsBeforeTheSamePictureAsWithOneThread(int threads)
    {
        var one = EventPlacement(_clips.Dropped, 1);

        Assert.NotEmpty(one);
        Assert.Equal(one, EventPlacement(_clips.Dropped, threads));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Read_ConcealedPictures_FlaggedAsWithOneThreadInEveryRun(int threads)
    {
        var one = Flags(_clips.Garbled, 1);
        Assert.Contains(one, f => f.Contains("concealed", StringComparison.Ordinal));
        // the decoder's count of concealed macroblocks comes with the flag, and only with it
        Assert.All(one, f => Assert.Equal(f.Contains("concealed", StringComparison.Ordinal), !f.Contains(" 0.0000 ", StringComparison.Ordinal)));

        for (var run = 0; run < 5; run++) Assert.Equal(one, Flags(_clips.Garbled, threads));
    }

    [Fact]
    public void Read_BPicturesShownBeforeAConcealedP_MarkedAsPredictedFromIt()
    {
        var frames = Frames(_clips.Garbled, 4);

        // every picture marked is shown before a concealed P that comes out of the decoder after it (it was
        // decoded after that P: a B-picture referring to it)
        var marked = frames.Where(f => f.Frame.HasConcealedReference).ToList();
        Assert.NotEmpty(marked);
        Assert.All(marked, m => Assert.Contains(frames, p => p.Order > m.Order && p.Order <= m.Order + 3 && p.Frame.Pts > m.Frame.Pts
                                                             && p.Frame.DecodeErrors.HasFlag(DecodeErrors.ConcealmentActive)));
        // and a clean stretch has none
        Assert.DoesNotContain(frames, f => f.Frame.Pts < 1.4 && f.Frame.HasConcealedReference);
    }

    [Theory]
    [InlineData(0)] // one per core, the default of analyze
    [InlineData(4)]
    public async Task Analyse_DamagedStreams_IdenticalDefectLinesOverEightRuns(int threads)
    {
        foreach (var clip in new[] { _clips.Dropped, _clips.Garbled, _clips.IntraRefresh })
        {
            var first = await DefectLines(clip, threads);
            Assert.NotEmpty(first);
            for (var run = 1; run < 8; run++) Assert.Equal(first, await DefectLines(clip, threads));
            // the intervals are those of a one-thread decode too (the concealed pixels may differ, not where damage is)
            Assert.Equal(Intervals(await DefectLines(clip, 1)), Intervals(first));
        }
    }

    /// <summary>For each event: its kind and the pts of the next picture out.</summary>
    private static List<string> EventPlacement(string path, int threads)
    {
        var placed = new List<string>();
        var pending = new List<MediaEvent>();
        using var source = MediaSource.Open(path, new MediaOpenOptions { Audio = false, DecodeThreads = threads });
        while (source.Read() is { Kind: not MediaItemKind.End } item)
        {
            if (item.Kind == MediaItemKind.Event) pending.Add(item.Event);
            if (item.Video is not { } frame) continue;
            placed.AddRange(pending.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Kind} before {frame.Pts:0.000}")));
            pending.Clear();
            frame.Release();
        }
        return placed;
    }

    private static List<string> Flags(string path, int threads) =>
        Frames(path, threads).Select(f => string.Create(CultureInfo.InvariantCulture,
            $"{f.Frame.Pts:0.000} {(f.Frame.DecodeErrors.HasFlag(DecodeErrors.ConcealmentActive) ? "concealed" : "")} {f.Frame.ConcealedArea:0.0000} {(f.Frame.HasConcealedReference ? "reference" : "")}")).ToList();

    /// <summary>Every picture in output order with its flags (copied: frames are pooled).</summary>
    private static List<(int Order, VideoFrame Frame)> Frames(string path, int threads)
    {
        var frames = new List<(int, VideoFrame)>();
        using var source = MediaSource.Open(path, new MediaOpenOptions { Audio = false, DecodeThreads = threads, GridStatistics = false });
        while (source.Read() is { Kind: not MediaItemKind.End } item)
        {
            if (item.Video is not { } frame) continue;
            var copy = VideoFrame.Create(1, 1, frame.Pts);
            copy.DecodeErrors = frame.DecodeErrors;
            copy.HasConcealedReference = frame.HasConcealedReference;
            copy.ConcealedArea = frame.ConcealedArea;
            frames.Add((frames.Count, copy));
            frame.Release();
        }
        return frames;
    }

    private static async Task<List<string>> DefectLines(string path, int threads)
    {
        var collector = new DefectCollector();
        using var source = MediaSource.Open(path, new MediaOpenOptions { DecodeThreads = threads });
        var detectors = DetectorCatalog.Create(DetectorCatalog.Select(null), new DetectorContext(source.Info, collector, DetectorSettings.Empty));
        await new StreamAnalyzer(source, detectors).RunAsync();
        return collector.Ended.Select(ContractJson.Defect).ToList();
    }

    private static List<string> Intervals(IEnumerable<string> lines) =>
        lines.Select(l => l[..l.IndexOf("\"confidence\"", StringComparison.Ordinal)]).ToList();
}
