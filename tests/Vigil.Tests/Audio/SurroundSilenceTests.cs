using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Media;
using Vigil.Tests.Detectors;
using Vigil.Tests.Support;

namespace Vigil.Tests.Audio;

/// <summary>
/// <c>audio.silence</c> on 5.1 programmes generated at test time, a distinct tone on every channel: a dead
/// channel is judged by its role. A silent LFE is normal (never reported by default), a dead centre loses the
/// dialogue (always reported, with its channel), surrounds only when asked for.
/// </summary>
public sealed class SurroundSilenceTests
{
    private const string Silence = SilenceDetector.KindName;

    // channel indices in FFmpeg's order for 5.1 and 5.1(side): FL FR FC LFE, then BL BR or SL SR
    private const int Centre = 2, Lfe = 3, SurroundLeft = 4, SurroundRight = 5;

    /// <summary>The codecs a 5.1 programme comes in: broadcast AC-3, AAC in MP4, PCM WAV (channel mask) at 44.1 kHz.</summary>
    public static TheoryData<string, string, string, int> Codecs => new()
    {
        { "ac3", "5.1", "-c:a ac3 -b:a 384k", 48000 },
        { "m4a", "5.1", "-c:a aac -b:a 384k", 48000 },
        { "wav", "5.1(side)", "-c:a pcm_s16le", 44100 },
    };

    /// <summary>
    /// 8 s of 5.1 at −20 dBFS, one tone per channel (FL 300 Hz, FR 400, FC 500, LFE 60, surrounds 600 and 700);
    /// <paramref name="silent"/> says, per channel, when it is digital zero (an ffmpeg expression in t, or null).
    /// </summary>
    private static string Surround(string extension, string layout, string codec, int rate, params string?[] silent)
    {
        double[] tones = [300, 400, 500, 60, 600, 700];
        var channels = tones.Select((f, c) =>
        {
            var tone = $"0.1*sin(2*PI*{f}*t)";
            return silent.Length > c && silent[c] is { } when ? $"if({when}\\,0\\,{tone})" : tone;
        });
        return TestClips.GenerateNow($"surround.{extension}",
            $"-f lavfi -i \"aevalsrc='{string.Join("|", channels)}':c={layout}:s={rate}:d=8\" {codec}");
    }

    private static double Tolerance(string extension) => extension == "wav" ? ClipAssert.AudioTolerance : 0.1; // lossy frames smear the edges

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task Analyze_SilentLfeThroughout_ReportsNothing(string extension, string layout, string codec, int rate)
    {
        // the trap: most 5.1 programmes leave the LFE silent; the old rule called it a dead channel for the whole programme
        var clip = Surround(extension, layout, codec, rate, null, null, null, "1");
        var result = await Analysis.RunAsync(clip, Silence);
        Assert.Equal(6, result.Summary.Media.Audio!.Channels);
        Assert.True(result.Summary.Duration > 7.9, "the whole programme was analysed");
        Assert.Empty(result.Ended);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task Analyze_DeadCentre_ReportsSilenceOnTheCentre(string extension, string layout, string codec, int rate)
    {
        // the centre (dialogue) dead from 2 to 6 s, the LFE silent throughout
        var clip = Surround(extension, layout, codec, rate, null, null, "between(t\\,2\\,6)", "1");
        var result = await Analysis.RunAsync(clip, Silence);
        var defect = Assert.Single(result.Ended);
        Assert.Equal(Centre, defect.Channel);
        ClipAssert.Interval(defect, 2.0, 6.0, Tolerance(extension));
    }

    [Fact]
    public async Task Analyze_SilentSurrounds_OnlyReportedWhenAskedFor()
    {
        // stereo-like content in 5.1: the surrounds silent from 1 to 7 s (and the LFE throughout)
        var clip = Surround("ac3", "5.1", "-c:a ac3 -b:a 384k", 48000, null, null, null, "1", "between(t\\,1\\,7)", "between(t\\,1\\,7)");
        Assert.Empty((await Analysis.RunAsync(clip, Silence)).Ended);

        var asked = await Analysis.RunAsync(clip, Silence, "audio.silence.include_surrounds=true");
        Assert.Equal([SurroundLeft, SurroundRight], asked.Ended.Select(d => d.Channel).Order());
        Assert.All(asked.Ended, d => ClipAssert.Interval(d, 1.0, 7.0, Tolerance("ac3")));
    }

    [Fact]
    public async Task Analyze_SilentLfe_ReportedWhenAskedFor()
    {
        var clip = Surround("wav", "5.1(side)", "-c:a pcm_s16le", 44100, null, null, null, "1");
        var result = await Analysis.RunAsync(clip, Silence, "audio.silence.include_lfe=true");
        var defect = Assert.Single(result.Ended);
        Assert.Equal(Lfe, defect.Channel);
    }

    [Fact]
    public async Task Analyze_FrontAllSilentWhileLfeRumbles_ReportsTheProgrammeSilent()
    {
        // everything the viewer follows is gone (front and surrounds) while the LFE still carries its tone:
        // one silence of the whole programme, not a dead channel each
        const string gone = "between(t\\,2\\,6)";
        var clip = Surround("ac3", "5.1", "-c:a ac3 -b:a 384k", 48000, gone, gone, gone, null, gone, gone);
        var defect = Assert.Single((await Analysis.RunAsync(clip, Silence)).Ended);
        Assert.Null(defect.Channel);
        ClipAssert.Interval(defect, 2.0, 6.0, Tolerance("ac3"));
    }

    [Theory]
    [InlineData("5.1", new[] { ChannelRole.FrontLeft, ChannelRole.FrontRight, ChannelRole.FrontCenter, ChannelRole.LowFrequency, ChannelRole.BackLeft, ChannelRole.BackRight })]
    [InlineData("5.1(side)", new[] { ChannelRole.FrontLeft, ChannelRole.FrontRight, ChannelRole.FrontCenter, ChannelRole.LowFrequency, ChannelRole.SideLeft, ChannelRole.SideRight })]
    [InlineData("stereo", new[] { ChannelRole.FrontLeft, ChannelRole.FrontRight })]
    [InlineData("mono", new[] { ChannelRole.FrontCenter })]
    public void Decode_ChannelLayout_BlocksCarryEachChannelsRole(string layout, ChannelRole[] expected)
    {
        var channels = string.Join("|", expected.Select((_, c) => $"0.1*sin(2*PI*{300 + 100 * c}*t)"));
        var clip = TestClips.GenerateNow("layout.wav", $"-f lavfi -i \"aevalsrc='{channels}':c={layout}:s=48000:d=1\" -c:a pcm_s16le");
        var seen = new List<IReadOnlyList<ChannelRole>>();
        AudioClips.Decode(clip, block => seen.Add(block.Roles));
        Assert.NotEmpty(seen);
        Assert.All(seen, roles => Assert.Equal(expected, roles));
    }

    [Fact]
    public async Task Analyze_SixUnlabelledChannels_TakesFfmpegsDefault51()
    {
        // Matroska PCM with only a channel count ("6 channels"): read in FFmpeg's default 5.1 order, the one every
        // tool assumes, so the fourth channel is the LFE: silent there is normal, dead third channel is the centre
        var clip = TestClips.GenerateNow("six.mkv",
            "-f lavfi -i \"aevalsrc='0.1*sin(2*PI*300*t)|0.1*sin(2*PI*400*t)|if(between(t\\,2\\,6)\\,0\\,0.1*sin(2*PI*500*t))|0|0.1*sin(2*PI*600*t)|0.1*sin(2*PI*700*t)':s=48000:d=8\" " +
            "-af \"pan=6c|c0=c0|c1=c1|c2=c2|c3=c3|c4=c4|c5=c5\" -c:a pcm_s16le");
        var roles = new List<IReadOnlyList<ChannelRole>>();
        AudioClips.Decode(clip, block => roles.Add(block.Roles));
        Assert.All(roles, r => Assert.Equal(ChannelLayouts.Default(6), r));
        var defect = Assert.Single((await Analysis.RunAsync(clip, Silence)).Ended);
        Assert.Equal(Centre, defect.Channel);
    }
}
