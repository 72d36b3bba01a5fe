namespace Vigil.Detectors.Audio.Loudness;

/// <summary>One second-order IIR section, normalised so that a0 = 1.</summary>
public readonly record struct BiquadCoefficients(double B0, double B1, double B2, double A1, double A2);

/// <summary>
/// The ITU-R BS.1770-4 K-weighting pre-filter (a high shelf modelling the head, then the RLB
/// high-pass) for any sample rate. BS.1770 tabulates the coefficients for 48 kHz only; they derive
/// from one analogue prototype per stage (f0, gain, Q) through the bilinear transform, so deriving
/// them per rate reproduces the table at 48 kHz and gives the same curve at 44.1, 32 or 96 kHz.
/// </summary>
public static class KWeighting
{
    // Prototype parameters recovered from the 48 kHz table (the constants libebur128 uses).
    private const double ShelfF0 = 1681.974450955533, ShelfGainDb = 3.999843853973347, ShelfQ = 0.7071752369554196;
    private const double ShelfVbExponent = 0.4996667741545416; // band gain of the shelf relative to its high gain
    private const double HighPassF0 = 38.13547087602444, HighPassQ = 0.5003270373238773;

    /// <summary>Stage 1: the high-shelf (+4 dB above ~1.7 kHz).</summary>
    public static BiquadCoefficients Shelf(int sampleRate)
    {
        var k = Math.Tan(Math.PI * ShelfF0 / sampleRate);
        var vh = Math.Pow(10, ShelfGainDb / 20);
        var vb = Math.Pow(vh, ShelfVbExponent);
        var a0 = 1 + k / ShelfQ + k * k;
        return new BiquadCoefficients(
            (vh + vb * k / ShelfQ + k * k) / a0,
            2 * (k * k - vh) / a0,
            (vh - vb * k / ShelfQ + k * k) / a0,
            2 * (k * k - 1) / a0,
            (1 - k / ShelfQ + k * k) / a0);
    }

    /// <summary>
    /// Stage 2: the RLB high-pass (~38 Hz). BS.1770 Table 2 gives its numerator as [1, −2, 1], which is the
    /// bilinear transform left unnormalised: its pass-band gain is +0.043 dB at 48 kHz, and the −0.691 of the
    /// loudness formula includes that. Taking [1, −2, 1] at every rate (as libebur128 does) would shift the
    /// pass band by the rate (+0.08 dB at 22.05 kHz), so the numerator is scaled to keep the 48 kHz gain:
    /// exactly [1, −2, 1] at 48 kHz, the same response elsewhere.
    /// </summary>
    public static BiquadCoefficients HighPass(int sampleRate)
    {
        var a0 = HighPassA0(sampleRate);
        var k = Math.Tan(Math.PI * HighPassF0 / sampleRate);
        var g = HighPassA0(48000) / a0;
        return new BiquadCoefficients(g, -2 * g, g, 2 * (k * k - 1) / a0, (1 - k / HighPassQ + k * k) / a0);
    }

    private static double HighPassA0(int sampleRate)
    {
        var k = Math.Tan(Math.PI * HighPassF0 / sampleRate);
        return 1 + k / HighPassQ + k * k;
    }

    /// <summary>
    /// BS.1770 channel weights for <paramref name="channels"/> channels in FFmpeg's default order for that
    /// count (mono; stereo; 2.1; 4.0; 5.0; 5.1; 6.1; 7.1): front and centre 1.0, LFE 0, back and side
    /// surrounds 1.41 (FFmpeg's ebur128 also weights the back centre as a surround). Other counts: 1.0 each.
    /// </summary>
    public static double[] ChannelWeights(int channels)
    {
        const double S = 1.41;
        return channels switch
        {
            3 => [1, 1, 0],                      // 2.1: FL FR LFE
            4 => [1, 1, 1, S],                   // 4.0: FL FR FC BC
            5 => [1, 1, 1, S, S],                // 5.0: FL FR FC BL BR
            6 => [1, 1, 1, 0, S, S],             // 5.1: FL FR FC LFE BL BR
            7 => [1, 1, 1, 0, S, S, S],          // 6.1: FL FR FC LFE BC SL SR
            8 => [1, 1, 1, 0, S, S, S, S],       // 7.1: FL FR FC LFE BL BR SL SR
            _ => Enumerable.Repeat(1.0, Math.Max(channels, 0)).ToArray(),
        };
    }
}
