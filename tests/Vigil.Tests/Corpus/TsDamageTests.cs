using Vigil.Media;
using Vigil.Tools;
using Vigil.Tools.Corpus;

namespace Vigil.Tests;

/// <summary>The TS damage routine on a real H.264 transport stream made by the ffmpeg CLI.</summary>
public class TsDamageTests : IClassFixture<TsDamageTests.Clip>
{
    public sealed class Clip : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"vigil-tsdamage-{Guid.NewGuid():N}.ts");

        public Clip() => FfmpegCli.Run($"-y -v error -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -preset veryfast -g 25 -bf 0 -f mpegts \"{Path}\"");

        public void Dispose() => File.Delete(Path);
    }

    private readonly byte[] _ts;

    public TsDamageTests(Clip clip) => _ts = File.ReadAllBytes(clip.Path);

    [Fact]
    public void Constructor_H264TransportStream_FindsVideoPidAndEveryFrame()
    {
        var damage = new TsDamage(_ts);

        Assert.Equal(0x100, damage.VideoPid); // ffmpeg's default first elementary PID
        Assert.Equal(50, damage.Frames);
    }

    [Fact]
    public void DropPackets_SevenPackets_RemovesThemAndDemuxerReportsContinuityError()
    {
        var damaged = new TsDamage(_ts).DropPackets(10, 1, 7).Build();

        Assert.Equal(_ts.Length - 7 * TsDamage.PacketSize, damaged.Length);
        var (frames, corruptEvents) = Decode(damaged);
        Assert.True(corruptEvents >= 1);
        Assert.True(frames >= 48);
    }

    [Fact]
    public void GarblePackets_KeepsLengthAndHeaders_NoContinuityError()
    {
        var damaged = new TsDamage(_ts).GarblePackets(10, 1, 3, seed: 5).Build();

        Assert.Equal(_ts.Length, damaged.Length);
        Assert.NotEqual(_ts, damaged);
        for (var i = 0; i < damaged.Length; i += TsDamage.PacketSize)
            Assert.Equal(_ts.AsSpan(i, 4).ToArray(), damaged.AsSpan(i, 4).ToArray());
        Assert.Equal(0, Decode(damaged).CorruptEvents);
    }

    [Fact]
    public void DropFrame_OneFrame_DecodesOneFrameFewer()
    {
        var damaged = new TsDamage(_ts).DropFrame(20).Build();

        Assert.Equal(Decode(_ts).Frames - 1, Decode(damaged).Frames);
    }

    private static (int Frames, int CorruptEvents) Decode(byte[] ts)
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-tsdamage-{Guid.NewGuid():N}.ts");
        File.WriteAllBytes(path, ts);
        try
        {
            using var source = MediaSource.Open(path, new MediaOpenOptions { Audio = false, DecodeThreads = 1 });
            int frames = 0, corrupt = 0;
            while (source.Read() is { Kind: not MediaItemKind.End } item)
            {
                if (item.Video is { } frame) { frames++; frame.Release(); }
                if (item.Kind == MediaItemKind.Event && item.Event.Kind == MediaEventKind.PacketsLost) corrupt++;
            }
            return (frames, corrupt);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
