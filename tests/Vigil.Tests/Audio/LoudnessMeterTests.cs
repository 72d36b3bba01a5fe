using Vigil.Detectors.Audio.Loudness;
using Vigil.Media;

namespace Vigil.Tests.Audio;

/// <summary>The meter against analytic values: the cases of EBU Tech 3341 (loudness) and 3342 (range), synthesised exactly.</summary>
public class LoudnessMeterTests
{
    private const int Rate = 48000;

    [Theory]
    [InlineData(48000, -23.0)]
    [InlineData(48000, -33.0)]
    [InlineData(48000, -3.0)]
    [InlineData(44100, -23.0)]
    [InlineData(32000, -23.0)]
    [InlineData(96000, -23.0)]
    public void Integrated_StereoSineAtLevel_MeasuresThatLevel(int rate, double dbfs)
    {
        // Tech 3341 cases 1–2: a stereo 1 kHz sine at A dBFS peak reads A LUFS
        var meter = Run(rate, 2, 20, Signals.Sine(1000, dbfs, rate));
        Assert.Equal(dbfs, meter.Integrated, 0.1);
        Assert.Equal(dbfs, meter.Momentary, 0.1);
        Assert.Equal(dbfs, meter.ShortTerm, 0.1);
        Assert.Equal(0, meter.LoudnessRange, 0.1);
    }

    [Fact]
    public void Integrated_MonoSine_IsOneChannelOfStereo()
    {
        var meter = Run(Rate, 1, 10, Signals.Sine(1000, -20, Rate));
        Assert.Equal(-20 - 10 * Math.Log10(2), meter.Integrated, 0.1);
    }

    [Fact]
    public void Integrated_FivePointOne_WeightsSurroundsAndIgnoresLfe()
    {
        // −20 dBFS on L, R, C (weight 1 each), a loud LFE (weight 0) and −20 dBFS on both surrounds (1.41)
        var a = Signals.Amplitude(-20);
        var meter = Run(Rate, 6, 10, (c, n) => (c == 3 ? 0.9 : a) * Math.Sin(2 * Math.PI * (c == 3 ? 60 : 1000) * n / Rate));
        var expected = -20 - 10 * Math.Log10(2) + 10 * Math.Log10(3 + 2 * 1.41);
        Assert.Equal(expected, meter.Integrated, 0.1);
    }

    [Theory]
    [InlineData(new[] { 10.0, 60, 10 }, new[] { -36.0, -23, -36 })]                 // Tech 3341 case 3
    [InlineData(new[] { 10.0, 10, 60, 10, 10 }, new[] { -72.0, -36, -23, -36, -72 })] // case 4: absolute and relative gates
    [InlineData(new[] { 20.0, 20.1, 20 }, new[] { -26.0, -20, -26 })]               // case 5
    public void Integrated_GatedLevelSteps_ReadsMinus23(double[] seconds, double[] levels)
    {
        var segments = seconds.Zip(levels).ToArray();
        var meter = Run(Rate, 2, Signals.Seconds(segments), Signals.Steps(Rate, segments));
        Assert.Equal(-23.0, meter.Integrated, 0.1);
    }

    [Theory]
    [InlineData(new[] { -20.0, -30 }, 10.0)]            // Tech 3342 case 1
    [InlineData(new[] { -20.0, -15 }, 5.0)]             // case 2
    [InlineData(new[] { -40.0, -20 }, 20.0)]            // case 3
    [InlineData(new[] { -50.0, -35, -20, -35, -50 }, 15.0)] // case 4: the −50 segments fall under the −20 LU gate
    public void LoudnessRange_Tech3342Steps_ReadsTheStepSize(double[] levels, double expected)
    {
        var segments = levels.Select(l => (20.0, l)).ToArray();
        var meter = Run(Rate, 2, Signals.Seconds(segments), Signals.Steps(Rate, segments));
        Assert.Equal(expected, meter.LoudnessRange, 0.1);
    }

    [Fact]
    public void ShortTerm_PeriodicBurstsOfThreeSeconds_IsConstantMinus23()
    {
        // 1.34 s at −20 dBFS then 1.66 s at −30: every 3 s window holds the same energy, −23.0 LUFS
        var observer = new Recorder();
        var meter = new LoudnessMeter(Rate, 2);
        meter.AddObserver(observer);
        var period = 3 * Rate;
        Signals.Feed(Rate, 2, 21, (c, n) => Signals.Amplitude(n % period < 1.34 * Rate ? -20 : -30) * Math.Sin(2 * Math.PI * 1000 * n / Rate), meter.Process);
        var full = observer.Steps.Where(s => s.ShortTermComplete).Select(s => s.ShortTerm).ToList();
        Assert.True(full.Count > 150);
        Assert.All(full, v => Assert.Equal(-23.0, v, 0.1));
    }

    [Fact]
    public void Momentary_PeriodicBurstsOf400ms_IsConstantMinus23()
    {
        var observer = new Recorder();
        var meter = new LoudnessMeter(Rate, 2);
        meter.AddObserver(observer);
        var period = (int)(0.4 * Rate);
        Signals.Feed(Rate, 2, 10, (c, n) => Signals.Amplitude(n % period < 0.18 * Rate ? -20 : -30) * Math.Sin(2 * Math.PI * 1000 * n / Rate), meter.Process);
        var full = observer.Steps.Where(s => s.Steps >= LoudnessMeter.MomentarySteps).Select(s => s.Momentary).ToList();
        Assert.All(full, v => Assert.Equal(-23.0, v, 0.1));
    }

    [Fact]
    public void Steps_EveryHundredMilliseconds_CarryMediaTime()
    {
        var observer = new Recorder();
        var meter = new LoudnessMeter(44100, 2);
        meter.AddObserver(observer);
        Signals.Feed(44100, 2, 2.05, Signals.Sine(1000, -20, 44100), meter.Process, blockSize: 1000, startPts: 5.0);
        Assert.Equal(20, observer.Steps.Count);
        Assert.Equal(5.1, observer.Steps[0].Time, 1e-9);
        Assert.Equal(7.0, observer.Steps[^1].Time, 1e-9);
    }

    [Fact]
    public void WindowedIntegrated_AfterALevelChange_ForgetsThePast()
    {
        var meter = new LoudnessMeter(Rate, 2, new LoudnessMeterOptions { WindowSeconds = 20 });
        Signals.Feed(Rate, 2, 60, Signals.Steps(Rate, (30, -30), (30, -20)), meter.Process);
        Assert.Equal(-20.0, meter.WindowedIntegrated, 0.1);
        Assert.Equal(-22.6, meter.Integrated, 0.1); // whole input: 10·log10((10^-3 + 10^-2)/2)
    }

    [Fact]
    public void Process_BlockSize_DoesNotChangeTheResult()
    {
        var signal = Signals.Steps(Rate, (5, -30), (5, -18));
        var small = Run(Rate, 2, 10, signal, blockSize: 37);
        var large = Run(Rate, 2, 10, signal, blockSize: 4096);
        Assert.Equal(large.Integrated, small.Integrated, 1e-6);
        Assert.Equal(large.LoudnessRange, small.LoudnessRange, 1e-6);
        Assert.Equal(large.TruePeakDb, small.TruePeakDb, 1e-4);
    }

    [Fact]
    public void Integrated_DigitalSilence_IsMinusInfinity()
    {
        var meter = Run(Rate, 2, 3, (_, _) => 0);
        Assert.Equal(double.NegativeInfinity, meter.Integrated);
        Assert.Equal(double.NegativeInfinity, meter.TruePeakDb);
        Assert.Equal(0, meter.LoudnessRange);
    }

    [Fact]
    public void Process_SteadyState_AllocatesNothing()
    {
        var meter = new LoudnessMeter(Rate, 2);
        var counter = new Counter();
        meter.AddObserver(counter);
        var block = AudioBlock.Create(2, 1024, Rate, 0);
        var sine = Signals.Sine(997, -10, Rate);
        for (var i = 0; i < 1024; i++) block.Channel(0)[i] = block.Channel(1)[i] = (float)sine(0, i);
        for (var i = 0; i < 200; i++) meter.Process(block); // warm up: JIT, buffers
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 2000; i++) meter.Process(block);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(counter.Steps > 400);
    }

    [Fact]
    public void Histogram_AddAndRemoveForAMillionBlocks_DoesNotDrift()
    {
        var histogram = new LoudnessHistogram();
        var random = new Random(7);
        var live = new Queue<(int, double)>();
        for (var i = 0; i < 1_000_000; i++)
        {
            var energy = LoudnessHistogram.Energy(-40 + 30 * random.NextDouble());
            live.Enqueue((histogram.Add(energy), energy));
            if (live.Count > 100)
            {
                var (bin, e) = live.Dequeue();
                histogram.Remove(bin, e);
            }
        }
        var reference = new LoudnessHistogram();
        foreach (var (_, e) in live) reference.Add(e);
        Assert.Equal(100, histogram.Count);
        Assert.Equal(reference.GatedLoudness(), histogram.GatedLoudness(), 1e-6);
    }

    internal static LoudnessMeter Run(int rate, int channels, double seconds, Func<int, long, double> signal, int blockSize = 1024)
    {
        var meter = new LoudnessMeter(rate, channels);
        Signals.Feed(rate, channels, seconds, signal, meter.Process, blockSize);
        return meter;
    }

    private sealed class Counter : ILoudnessObserver
    {
        public int Steps { get; private set; }
        public void OnStep(in LoudnessStep step) => Steps++;
    }

    private sealed class Recorder : ILoudnessObserver
    {
        public List<LoudnessStep> Steps { get; } = [];
        public void OnStep(in LoudnessStep step) => Steps.Add(step);
    }
}
