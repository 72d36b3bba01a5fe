using Vigil.Detectors;
using Vigil.Media;
using Vigil.Tests.Support;
using Vigil.Transport;

namespace Vigil.Tests.Detectors;

/// <summary>
/// What each detector declares it needs (its descriptor's <see cref="DetectorNeeds"/>), and what the converter
/// is then told to decode. The expectations are written out: a need dropped from a descriptor fails here
/// before it silently starves a detector (AnalyzeCliTests checks the same on real decoding).
/// </summary>
public sealed class DetectorNeedsTests
{
    [Theory]
    [InlineData("video.black", DetectorNeeds.Video)]
    [InlineData("video.freeze", DetectorNeeds.Video)]
    [InlineData("video.corruption", DetectorNeeds.Video | DetectorNeeds.GridStatistics | DetectorNeeds.BitstreamEvents)]
    [InlineData("video.blockiness", DetectorNeeds.Video | DetectorNeeds.GridStatistics)]
    [InlineData("audio.silence", DetectorNeeds.Audio)]
    [InlineData("audio.loudness", DetectorNeeds.Audio)]
    [InlineData("audio.clipping", DetectorNeeds.Audio)]
    [InlineData("av.sync", DetectorNeeds.Video | DetectorNeeds.Audio | DetectorNeeds.BitstreamEvents)] // corrupt packets and decode errors break its timestamp evidence
    [InlineData("stream.discontinuity", DetectorNeeds.BitstreamEvents)]
    [InlineData("ts.continuity_count_error", DetectorNeeds.Transport)]
    [InlineData("ts.pat_error", DetectorNeeds.Transport)]
    public void Descriptor_DeclaresWhatItsDetectorListensTo(string kind, DetectorNeeds needs)
    {
        var descriptor = Assert.Single(DetectorCatalog.Select(kind));
        Assert.Equal(needs, descriptor.Needs);
        // and the detector it builds is fed exactly that: the pipeline dispatches by these interfaces
        var media = new MediaInfo("mpegts", 10, new VideoInfo(0, "h264", 1280, 720, 640, 360, 25), new AudioInfo(1, "aac", 48000, 2));
        var detector = descriptor.Create(new DetectorContext(media, new RecordingSink(), DetectorSettings.Empty));
        Assert.Equal(descriptor.NeedsVideo, detector is IVideoDetector);
        Assert.Equal(descriptor.NeedsAudio, detector is IAudioDetector or ILoudnessDetector); // a loudness detector hears the pipeline's meter
        Assert.Equal(needs.HasFlag(DetectorNeeds.BitstreamEvents), detector is IMediaEventDetector);
        Assert.Equal(needs.HasFlag(DetectorNeeds.Transport), detector is ITransportDetector);
        Assert.Equal(kind, detector.Kind);
    }

    [Theory]
    [InlineData("video.black", true, false, false)]
    [InlineData("video.freeze,video.black", true, false, false)]
    [InlineData("video.corruption", true, false, true)]
    [InlineData("video.blockiness", true, false, true)]
    [InlineData("video", true, false, true)]
    [InlineData("audio", false, true, false)]
    [InlineData("audio.silence,video.black", true, true, false)]
    [InlineData("av.sync", true, true, false)]
    [InlineData("stream.discontinuity", true, true, false)] // watches the timestamps of every stream
    [InlineData("stream.discontinuity,audio.silence", true, true, false)]
    [InlineData("ts", true, true, false)] // transport findings are placed on the timeline of the decoded tracks
    [InlineData(null, true, true, true)]
    public void DecodeFor_Selection_DecodesOnlyWhatItsDetectorsNeed(string? selection, bool video, bool audio, bool grid)
    {
        var open = new MediaOpenOptions { DecodeThreads = 3, AnalysisMaxWidth = 320, IoTimeout = TimeSpan.FromSeconds(7) };
        var options = DetectorCatalog.DecodeFor(DetectorCatalog.Select(selection), open);
        Assert.Equal((video, audio, grid), (options.Video, options.Audio, options.GridStatistics));
        Assert.Equal((video, audio, grid),
            (DetectorCatalog.NeedsVideo(DetectorCatalog.Select(selection)), DetectorCatalog.NeedsAudio(DetectorCatalog.Select(selection)),
             DetectorCatalog.NeedsGridStatistics(DetectorCatalog.Select(selection))));
        // the caller's other settings are kept
        Assert.Equal(open with { Video = video, Audio = audio, GridStatistics = grid }, options);
    }

    [Fact]
    public void Create_InputWithoutAudio_BuildsNoDetectorThatNeedsIt()
    {
        var media = new MediaInfo("mp4", 10, new VideoInfo(0, "h264", 320, 240, 320, 240, 25), null);
        var kinds = DetectorCatalog.Create(DetectorCatalog.All, new DetectorContext(media, new RecordingSink(), DetectorSettings.Empty)).Select(d => d.Kind);
        Assert.Equal(["video.black", "video.freeze", "video.corruption", "video.blockiness", "stream.discontinuity",
            .. Indicators.All.Select(i => i.Kind())], kinds);
    }
}
