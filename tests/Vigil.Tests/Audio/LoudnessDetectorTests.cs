using Vigil.Detectors;
using Vigil.Detectors.Audio;
using Vigil.Detectors.Audio.Loudness;
using Vigil.Events;

namespace Vigil.Tests.Audio;

public class LoudnessDetectorTests
{
    private const int Rate = 48000;

    [Fact]
    public void Detect_QuietStretchOfTwentySeconds_ReportsItWithItsLoudness()
    {
        // −23 LUFS for 15 s, −35 for 20 s, −23 for 15 s. The 3 s short-term window falls under −28 once 2.19 s of
        // it are quiet ((1 − d/3·(1 − 10^−1.2)) < 10^−0.5) and is back over −28 once 0.76 s are loud again
        var found = Run(new LoudnessOptions(), Signals.Steps(Rate, (15, -23), (20, -35), (15, -23)), 50);
        var defect = Assert.Single(found);
        Assert.Equal(17.2, defect.Start, 0.15);
        Assert.Equal(35.8, defect.End!.Value, 0.15);
        Assert.Equal(-35, defect.Details!["lufs"], 0.5);
    }

    [Fact]
    public void Detect_ExcursionShorterThanTenSeconds_FindsNothing()
    {
        Assert.Empty(Run(new LoudnessOptions(), Signals.Steps(Rate, (10, -23), (6, -12), (10, -23)), 26));
    }

    [Fact]
    public void Detect_AtscPreset_HoldsTighterTolerance()
    {
        // −27 LUFS is inside EBU R128's −23 ± 5 but outside ATSC A/85's −24 ± 2
        var signal = Signals.Sine(1000, -27, Rate);
        Assert.Empty(Run(new LoudnessOptions(), signal, 15));
        var defect = Assert.Single(Run(new LoudnessOptions { Preset = LoudnessPreset.Atsc }, signal, 15));
        Assert.Equal(-27, defect.Details!["lufs"], 0.1);
        Assert.Equal(3.0, defect.Start, 0.15); // judged from the first full 3 s window
    }

    [Fact]
    public void Detect_Silence_IsLeftToTheSilenceDetector()
    {
        Assert.Empty(Run(new LoudnessOptions(), (_, _) => 0, 20));
    }

    [Fact]
    public void Bind_PresetFromSettings_SetsTargetAndToleranceUnlessGiven()
    {
        var atsc = DetectorSettings.Parse(["audio.loudness.preset=atsc"]).Bind<LoudnessOptions>(LoudnessDetector.KindName);
        Assert.Equal((-24.0, 2.0), (atsc.EffectiveTarget, atsc.EffectiveTolerance));
        var custom = DetectorSettings.Parse(["audio.loudness.preset=atsc", "audio.loudness.target=-16"]).Bind<LoudnessOptions>(LoudnessDetector.KindName);
        Assert.Equal((-16.0, 2.0), (custom.EffectiveTarget, custom.EffectiveTolerance));
        Assert.Throws<ArgumentException>(() => DetectorSettings.Parse(["audio.loudness.preset=nab"]).Bind<LoudnessOptions>(LoudnessDetector.KindName));
        Assert.Throws<ArgumentException>(() => DetectorSettings.Parse(["audio.loudness.tolerance=0"]).Bind<LoudnessOptions>(LoudnessDetector.KindName));
    }

    private static IReadOnlyList<Defect> Run(LoudnessOptions options, Func<int, long, double> signal, double seconds)
    {
        var sink = new DefectCollector();
        var detector = new LoudnessDetector(options, sink);
        // as in the pipeline: one meter for the stream, whose 100 ms steps the detector hears
        var meter = new LoudnessMeter(Rate, 2);
        meter.AddObserver(detector);
        Signals.Feed(Rate, 2, seconds, signal, meter.Process);
        detector.Flush(seconds);
        return sink.Ended;
    }
}
