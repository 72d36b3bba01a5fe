using System.Text.Json;
using Vigil.Media;
using Vigil.Tests.Support;
using Xunit.Abstractions;

namespace Vigil.Tests.Media;

/// <summary>
/// An encoder replaced by another on the same MPEG-TS PIDs (issue 12.2): both write PMT version 0, so
/// libavformat keeps the old codec and the H.264 decoder is fed MPEG-2. The converter must notice (a burst
/// of decode failures), restart the demuxer on the same bytes, report one codec change, decode the new
/// codec, and keep media time continuous. Ground truth by construction: 6 s H.264/AAC, then 6 s
/// MPEG-2/MP2 black from 3.0 to 4.5 s of its own clock, the files' bytes concatenated as a switch-over sends them.
/// </summary>
public sealed class CodecChangeTests(ITestOutputHelper output)
{
    private const string Part = "-f lavfi -i testsrc2=size=320x180:rate=25:duration=6 -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6";
    private const string H264 = "-c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -c:a aac -f mpegts";
    private const string Mpeg2WithBlack = "-vf \"drawbox=enable='between(t,3,4.5)':color=black:t=fill\" -c:v mpeg2video -g 25 -c:a mp2 -f mpegts";

    private static async Task<string> SwitchClip(string name, string first, string second)
    {
        var a = await TestClips.Generate($"{name}-a.ts", first);
        var b = await TestClips.Generate($"{name}-b.ts", second);
        var joined = Path.Combine(TestClips.WorkFolder, $"{name}.ts");
        if (!File.Exists(joined))
        {
            var temporary = joined + $".{Guid.NewGuid():N}";
            await File.WriteAllBytesAsync(temporary, [.. await File.ReadAllBytesAsync(a), .. await File.ReadAllBytesAsync(b)]);
            File.Move(temporary, joined, overwrite: true);
        }
        return joined;
    }

    private static Task<string> H264ThenMpeg2() => SwitchClip("switch-h264-mpeg2", $"{Part} {H264}", $"{Part} {Mpeg2WithBlack}");

    private sealed record Read(List<(double Pts, int Program)> Changes, List<(double Pts, int Program)> Video, MediaSource Source);

    private static Read ReadAll(MediaSource source)
    {
        var changes = new List<(double, int)>();
        var video = new List<(double, int)>();
        while (source.Read() is { Kind: not MediaItemKind.End } item)
        {
            if (item.Event is { Kind: MediaEventKind.CodecChange } e) changes.Add((e.Pts, item.Program));
            if (item.Video is { } frame)
            {
                video.Add((frame.Pts, item.Program));
                frame.Release();
            }
            item.Audio?.Release();
        }
        return new Read(changes, video, source);
    }

    [Fact]
    public async Task Read_H264ReplacedByMpeg2_OneCodecChangeNewDecoderContinuousTime()
    {
        var clip = await H264ThenMpeg2();
        using var source = MediaSource.Open(clip, new MediaOpenOptions { DecodeThreads = 1 });
        Assert.Equal("h264", source.Info.Video!.Codec);
        var stream = source.Info.Video.StreamIndex;
        var read = ReadAll(source);
        var change = Assert.Single(read.Changes);
        output.WriteLine($"codec change at {change.Pts:0.000}; {read.Video.Count} pictures, last at {read.Video[^1].Pts:0.000}");
        Assert.InRange(change.Pts, 5.9, 6.2); // where the first part ended
        Assert.Equal("mpeg2video", source.Info.Video!.Codec);
        Assert.Equal("mp2", source.Info.Audio!.Codec);
        Assert.Equal(stream, source.Info.Video.StreamIndex); // the stream keeps its index: detectors bound to it go on
        // at most ~1.5 s of the 12 lost to the failures that gave the change away, and time runs on without a jump
        var pts = read.Video.Select(v => v.Pts).ToList();
        Assert.InRange(pts.Count, 260, 300);
        Assert.InRange(pts[^1], 11.7, 12.1);
        var steps = pts.Zip(pts.Skip(1), (p, n) => n - p).ToList();
        Assert.All(steps, s => Assert.InRange(s, 0.0, 1.3)); // monotonic; the one gap is the lost stretch
        // the restarted demuxer read on from the same tapped byte stream: the transport analyser saw every byte once
        var transport = source.Transport!;
        Assert.Equal(new FileInfo(clip).Length, transport.Packets * 188 + transport.SkippedBytes);
    }

    [Fact]
    public async Task Analyze_H264ReplacedByMpeg2_BlackOfTheNewCodecFoundWhereItIs()
    {
        var clip = await H264ThenMpeg2();
        var result = await Analysis.RunAsync(clip, "video.black,stream.discontinuity", "video.black.min_duration=1");
        var black = Assert.Single(result.Of("video.black"));
        output.WriteLine($"black {black.Start:0.000}..{black.End:0.000}");
        Assert.InRange(black.Start, 9.04 - 0.12, 9.04 + 0.12); // 6.04 s (after the first part) + 3.0 s
        Assert.InRange(black.End!.Value - black.Start, 1.4, 1.6);
        var discontinuity = Assert.Single(result.Of("stream.discontinuity"), d => d.Details?.ContainsKey("codec_change") == true);
        Assert.InRange(discontinuity.Start, 5.5, 6.5);
        Assert.Equal("mpeg2video", result.Summary.Media.Video!.Codec);
    }

    /// <summary>The same file through <c>vigil analyze --json</c>, as a user runs it: one codec change, the black of the second part.</summary>
    [Fact]
    public async Task AnalyzeCli_H264ThenMpeg2File_OneCodecChangeAndTheBlack()
    {
        var clip = await H264ThenMpeg2();
        var run = await VigilCli.RunAsync("analyze", clip, "--json", "--detectors", "video.black,stream.discontinuity", "--set", "video.black.min_duration=1");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var defects = lines.Where(l => l.GetProperty("event").GetString() == "defect").ToList();
        bool Is(JsonElement d, string kind) => d.GetProperty("kind").GetString() == kind;
        var changes = defects.Where(d => Is(d, "stream.discontinuity") && d.TryGetProperty("details", out var x) && x.TryGetProperty("codec_change", out _)).ToList();
        var change = Assert.Single(changes);
        Assert.Equal(1, change.GetProperty("details").GetProperty("codec_change").GetInt32());
        var black = Assert.Single(defects, d => Is(d, "video.black"));
        Assert.InRange(black.GetProperty("start").GetDouble(), 9.04 - 0.12, 9.04 + 0.12);
        Assert.Equal("mpeg2video", lines[^1].GetProperty("video").GetProperty("codec").GetString());
    }

    /// <summary>Trap: H.264 replaced by H.264 at another size decodes on (new parameter sets), with no codec change.</summary>
    [Fact]
    public async Task Read_H264ReplacedByH264_NoCodecChangeNothingLost()
    {
        var clip = await SwitchClip("switch-h264-h264", $"{Part} {H264}",
            "-f lavfi -i testsrc2=size=640x360:rate=25:duration=6 -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6 " +
            "-c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a aac -f mpegts");
        using var source = MediaSource.Open(clip, new MediaOpenOptions { DecodeThreads = 1 });
        var read = ReadAll(source);
        Assert.Empty(read.Changes);
        Assert.InRange(read.Video.Count, 295, 300);
    }

    /// <summary>
    /// A multiplex of two programmes (service 1 and 2, both H.264 in the first 6 s); in the next 6 s service 1's
    /// encoder is MPEG-2, service 2 goes on in H.264 on its clock (the second part's timestamps continue the
    /// first's). One codec change, on service 1; service 2 has none, keeps its decoder and clock (its pictures
    /// run on without a jump) and loses at most what the restarted demuxer needs to find its PMT again.
    /// </summary>
    [Fact]
    public async Task Read_MultiplexOneProgrammeChangesCodec_OnlyItChangesTheOtherGoesOn()
    {
        const string inputs = "-f lavfi -i testsrc2=size=320x180:rate=25:duration=6 -f lavfi -i testsrc=size=320x180:rate=25:duration=6";
        const string programmes = "-map 0:v -map 1:v -program program_num=1:st=0 -program program_num=2:st=1 -f mpegts";
        var clip = await SwitchClip("switch-multiplex",
            $"{inputs} -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p {programmes}",
            $"{inputs} -c:v:0 mpeg2video -g 25 -c:v:1 libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -output_ts_offset 6 {programmes}");
        using var source = MediaSource.Open(clip, new MediaOpenOptions { DecodeThreads = 1, EveryProgram = true });
        Assert.Equal([1, 2], source.Programs.Select(p => p.Program));
        Assert.All(source.Programs, p => Assert.Equal("h264", p.Video!.Codec));
        var read = ReadAll(source);
        var change = Assert.Single(read.Changes);
        Assert.Equal(1, change.Program);
        Assert.Equal("mpeg2video", source.Programs[0].Video!.Codec);
        Assert.Equal("h264", source.Programs[1].Video!.Codec);
        var other = read.Video.Where(v => v.Program == 2).Select(v => v.Pts).ToList();
        var steps = other.Zip(other.Skip(1), (p, n) => n - p).ToList();
        var changed = read.Video.Where(v => v.Program == 1).Select(v => v.Pts).ToList();
        output.WriteLine($"change on service {change.Program} at {change.Pts:0.000}; service 1: {changed.Count} pictures, last {changed[^1]:0.000}; " +
            $"service 2: {other.Count} pictures, last {other[^1]:0.000}, largest step {steps.Max():0.000}");
        Assert.All(steps, s => Assert.InRange(s, 0.0, 0.5)); // on its own clock: no jump, no reset
        Assert.InRange(other[^1], 11.9, 12.0);
        Assert.InRange(other.Count, 290, 300);
        Assert.InRange(changed.Count, 260, 300);
        Assert.All(changed.Zip(changed.Skip(1), (p, n) => n - p), s => Assert.InRange(s, 0.0, 1.3));
    }
}
