using Vigil.Detectors.Audio.Loudness;

namespace Vigil.Tests.Audio;

public class KWeightingTests
{
    [Fact]
    public void Shelf_At48k_MatchesBs1770Table()
    {
        var s = KWeighting.Shelf(48000);
        Assert.Equal(1.53512485958697, s.B0, 1e-10);
        Assert.Equal(-2.69169618940638, s.B1, 1e-10);
        Assert.Equal(1.19839281085285, s.B2, 1e-10);
        Assert.Equal(-1.69065929318241, s.A1, 1e-10);
        Assert.Equal(0.73248077421585, s.A2, 1e-10);
    }

    [Fact]
    public void HighPass_At48k_MatchesBs1770Table()
    {
        var h = KWeighting.HighPass(48000);
        Assert.Equal((1.0, -2.0, 1.0), (h.B0, h.B1, h.B2));
        Assert.Equal(-1.99004745483398, h.A1, 1e-10);
        Assert.Equal(0.99007225036621, h.A2, 1e-10);
    }

    [Theory]
    [InlineData(44100)]
    [InlineData(32000)]
    [InlineData(96000)]
    [InlineData(22050)]
    public void Response_AtOtherRates_MatchesThe48kCurveWellBelowNyquist(int rate)
    {
        // the same analogue prototype: the gain at 100 Hz … 8 kHz agrees with 48 kHz within 0.05 dB
        foreach (var f in new[] { 100.0, 1000, 2000, 4000, 8000 })
        {
            if (f > rate / 16.0) continue; // the bilinear transform warps frequencies towards Nyquist
            Assert.Equal(GainDb(48000, f), GainDb(rate, f), 0.05);
        }
    }

    [Fact]
    public void Response_At1kHz_IsTheBs1770Offset()
    {
        // −0.691 in the loudness formula cancels the K-weighting gain at 1 kHz: a 0 dBFS sine reads −3.01 LUFS per channel
        Assert.Equal(0.691, GainDb(48000, 1000), 0.01);
    }

    [Theory]
    [InlineData(1, new[] { 1.0 })]
    [InlineData(2, new[] { 1.0, 1.0 })]
    [InlineData(6, new[] { 1.0, 1.0, 1.0, 0.0, 1.41, 1.41 })]
    public void ChannelWeights_DefaultLayouts_FollowBs1770(int channels, double[] expected)
    {
        Assert.Equal(expected, KWeighting.ChannelWeights(channels));
    }

    private static double GainDb(int rate, double frequency)
    {
        var w = 2 * Math.PI * frequency / rate;
        double Mag(BiquadCoefficients c)
        {
            var z1 = System.Numerics.Complex.FromPolarCoordinates(1, -w);
            var z2 = z1 * z1;
            return ((c.B0 + c.B1 * z1 + c.B2 * z2) / (1 + c.A1 * z1 + c.A2 * z2)).Magnitude;
        }
        return 20 * Math.Log10(Mag(KWeighting.Shelf(rate)) * Mag(KWeighting.HighPass(rate)));
    }
}
