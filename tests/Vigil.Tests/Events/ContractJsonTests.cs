using System.Text.Json;
using Vigil.Detectors;
using Vigil.Events;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Tests.Events;

/// <summary>The exact JSON Lines shape of EVENTS.md, character for character.</summary>
public sealed class ContractJsonTests
{
    private static readonly MediaInfo AudioVideo = new("mov,mp4,m4a,3gp,3g2,mj2", 15.0,
        new VideoInfo(0, "h264", 1280, 720, 640, 360, 25.0),
        new AudioInfo(1, "aac", 48000, 2));

    [Fact]
    public void Defect_ContractExample_IsWrittenExactly()
    {
        var defect = new Defect("video.freeze", 6.0, 9.04, 0.97, new Dictionary<string, double> { ["mafd"] = 0.0004 });
        Assert.Equal(
            """{"event":"defect","kind":"video.freeze","start":6.0,"end":9.04,"confidence":0.97,"details":{"mafd":0.0004}}""",
            ContractJson.Defect(defect));
    }

    [Fact]
    public void Defect_WithoutEnd_IsADefectStartWithNoEndField()
    {
        var json = ContractJson.Defect(new Defect("video.black", 3.0, null, 1.0));
        Assert.Equal("""{"event":"defect_start","kind":"video.black","start":3.0,"confidence":1.0}""", json);
        Assert.False(JsonDocument.Parse(json).RootElement.TryGetProperty("end", out _));
    }

    [Fact]
    public void Defect_Times_AreRoundedToThreeDecimalsWithADecimalPoint()
    {
        var json = ContractJson.Defect(new Defect("audio.silence", 2.00049, 4.4996, 0.123456,
            new Dictionary<string, double> { ["channel"] = 1 }, Stream: 1));
        Assert.Equal(
            """{"event":"defect","kind":"audio.silence","start":2.0,"end":4.5,"confidence":0.123,"details":{"channel":1},"stream":1}""",
            json);
    }

    [Fact]
    public void Defect_NonFiniteDetail_IsNull()
    {
        var json = ContractJson.Defect(new Defect("audio.loudness", 0, 10, 1, new Dictionary<string, double> { ["lufs"] = double.NegativeInfinity }));
        Assert.Contains("\"details\":{\"lufs\":null}", json);
        JsonDocument.Parse(json); // still valid JSON
    }

    [Fact]
    public void Defect_ClosedByTheMonitor_CarriesClosedByAsTextBesideTheNumbers()
    {
        var defect = new Defect("audio.silence", 10.0, 12.0, 1.0, new Dictionary<string, double> { ["channel"] = 1 })
            .ClosedByMonitor(ClosedBy.EndOfInput);
        var json = ContractJson.Defect(defect);
        Assert.Equal(
            """{"event":"defect","kind":"audio.silence","start":10.0,"end":12.0,"confidence":1.0,"details":{"channel":1,"closed_by":"end_of_input"}}""",
            json);
        var details = JsonDocument.Parse(json).RootElement.GetProperty("details");
        Assert.Equal(JsonValueKind.Number, details.GetProperty("channel").ValueKind);
        Assert.Equal(JsonValueKind.String, details.GetProperty("closed_by").ValueKind);
        Assert.Equal(ClosedBy.EndOfInput, defect.ClosedBy);
    }

    [Fact]
    public void Defect_OnAProgramme_WritesProgramAfterStream()
    {
        var json = ContractJson.Defect(new Defect("video.black", 1.0, 2.0, 1.0, Stream: 256, Program: 17));
        Assert.Equal("""{"event":"defect","kind":"video.black","start":1.0,"end":2.0,"confidence":1.0,"stream":256,"program":17}""", json);
    }

    [Fact]
    public void Key_TwoChannelsStartingTogether_AreTwoDefects()
    {
        Defect Dead(int channel) => new("audio.silence", 4.0, null, 1.0, new Dictionary<string, double> { ["channel"] = channel }, Stream: 1);
        Assert.NotEqual(Dead(0).Key, Dead(1).Key);
        Assert.Equal(Dead(1).Key, (Dead(1) with { End = 6.0 }).Key); // both events of one defect share it
        Assert.Equal(1, Dead(1).Key.Channel);
        Assert.NotEqual(Dead(0).Key, Dead(0).Key with { Program = 2 });
        Assert.Equal("audio.silence|1||1|4.000", Dead(1).Key.ToString());
    }

    [Fact]
    public void Summary_AudioVideoWithLoudness_HasTheContractFieldsInOrder()
    {
        var summary = new AnalysisSummary(AudioVideo, 15.0, 375, 703, 0, 0, 0, 0, 0.8);
        var json = ContractJson.Summary(summary.ToContract(2) with { Loudness = new LoudnessSummary(-20.1, 1.2, -5.9) });
        Assert.Equal(
            """{"event":"summary","duration":15.0,"video":{"codec":"h264","width":1280,"height":720,"fps":25.0,"frames":375},"audio":{"codec":"aac","sample_rate":48000,"channels":2},"loudness":{"integrated_lufs":-20.1,"lra_lu":1.2,"true_peak_dbtp":-5.9},"defects":2,"wall_seconds":0.8}""",
            json);
    }

    [Fact]
    public void Summary_AudioOnlyWithErrors_OmitsVideoAndCountsErrors()
    {
        var media = AudioVideo with { Video = null };
        var json = ContractJson.Summary(new AnalysisSummary(media, 7.0, 0, 300, 4, 2, 0, 0, 0.0123).ToContract(0));
        Assert.Equal(
            """{"event":"summary","duration":7.0,"audio":{"codec":"aac","sample_rate":48000,"channels":2},"defects":0,"corrupt_packets":4,"decode_errors":2,"wall_seconds":0.012}""",
            json);
    }

    [Fact]
    public void Summary_SilentInput_WritesNullLoudnessNotInfinity()
    {
        var json = ContractJson.Summary(new AnalysisSummary(AudioVideo, 1, 25, 47, 0, 0, 0, 0, 0.1).ToContract(0) with
        {
            Loudness = new LoudnessSummary(double.NegativeInfinity, 0, double.NegativeInfinity),
        });
        var loudness = JsonDocument.Parse(json).RootElement.GetProperty("loudness");
        Assert.Equal(JsonValueKind.Null, loudness.GetProperty("integrated_lufs").ValueKind);
        Assert.Equal(0.0, loudness.GetProperty("lra_lu").GetDouble());
    }
}
