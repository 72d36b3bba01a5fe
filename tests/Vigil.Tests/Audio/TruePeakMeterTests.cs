using Vigil.Detectors.Audio.Loudness;

namespace Vigil.Tests.Audio;

/// <summary>True peak against analytic inter-sample peaks.</summary>
public class TruePeakMeterTests
{
    [Fact]
    public void Peak_SineAtQuarterRateAnd45Degrees_ReadsThreeDbAboveTheSamples()
    {
        // samples sit at ±0.707 of the amplitude; the waveform peaks half-way between them
        var meter = Run(48000, 2, 1, Signals.Sine(12000, -6, 48000, Math.PI / 4));
        Assert.Equal(-6.0, meter.PeakDb, 0.05);
    }

    [Fact]
    public void Peak_StreamStartingMidWaveform_HasNoPhantomOnset()
    {
        // the same sine starting abruptly at the first sample: nothing is assumed before it, so no ringing
        // from an imagined step out of zero (FFmpeg's swresample reads this case 0.6 dB high)
        var meter = Run(48000, 2, 0.05, Signals.Sine(12000, -6, 48000, Math.PI / 4), blockSize: 64);
        Assert.InRange(meter.PeakDb, -6.05, -5.95);
    }

    [Theory]
    [InlineData(48000, 997.0, -1.0)]
    [InlineData(44100, 997.0, -1.0)]
    [InlineData(96000, 997.0, -1.0)]
    [InlineData(48000, 10000.0, -3.0)]
    [InlineData(44100, 15000.0, -3.0)]
    public void Peak_SteadySine_ReadsItsAmplitude(int rate, double frequency, double dbfs)
    {
        var meter = Run(rate, 2, 1, Signals.Sine(frequency, dbfs, rate, 0.3));
        Assert.Equal(dbfs, meter.PeakDb, 0.1);
    }

    [Fact]
    public void Peak_ToneSwitchedOnAtItsCrest_StaysWithinTheBandLimitedReconstruction()
    {
        // a 1 kHz cosine at −6 dBFS switched on at its crest after silence: a real step. Its ideal band-limited
        // reconstruction rings above the tone (Gibbs); the meter must read at least the tone and never more than
        // that ideal (FFmpeg: +1.08 dB over the tone)
        const int rate = 48000;
        var a = Signals.Amplitude(-6);
        Func<int, long, double> signal = (_, n) => n < rate / 2 ? 0 : a * Math.Cos(2 * Math.PI * 1000 * (n - rate / 2) / rate);
        var meter = Run(rate, 1, 1, signal);
        var ideal = IdealPeak(signal, rate / 2 - 64, rate / 2 + 64);
        Assert.InRange(meter.PeakDb, -6.03, 20 * Math.Log10(ideal) + 0.01);
    }

    [Fact]
    public void Peak_BlockSize_DoesNotChangeTheResult()
    {
        var signal = Signals.Sine(12345, -2, 48000, 1.1);
        Assert.Equal(Run(48000, 1, 0.2, signal, 4096).PeakDb, Run(48000, 1, 0.2, signal, 1).PeakDb, 1e-6);
    }

    [Fact]
    public void Phases_InterpolateExactlyAtDc()
    {
        for (var p = 1; p < 4; p++) Assert.Equal(1.0, TruePeakMeter.DesignPhase(p / 4.0).Sum(), 1e-6);
    }

    private static TruePeakMeter Run(int rate, int channels, double seconds, Func<int, long, double> signal, int blockSize = 1024)
    {
        var meter = new TruePeakMeter(rate, channels);
        Signals.Feed(rate, channels, seconds, signal, block =>
        {
            for (var c = 0; c < channels; c++) meter.Process(c, block.Channel(c));
        }, blockSize);
        return meter;
    }

    /// <summary>Peak of the ideal (sinc, ±2000 samples) reconstruction between samples <paramref name="from"/> and <paramref name="to"/>, 64× oversampled.</summary>
    private static double IdealPeak(Func<int, long, double> signal, long from, long to)
    {
        var peak = 0.0;
        for (var t = (double)from; t <= to; t += 1 / 64.0)
        {
            var sum = 0.0;
            for (var k = (long)t - 2000; k <= (long)t + 2000; k++)
            {
                var d = t - k;
                sum += signal(0, k) * (d == 0 ? 1 : Math.Sin(Math.PI * d) / (Math.PI * d));
            }
            peak = Math.Max(peak, Math.Abs(sum));
        }
        return peak;
    }
}
