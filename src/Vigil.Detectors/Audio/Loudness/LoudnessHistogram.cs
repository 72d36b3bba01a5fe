namespace Vigil.Detectors.Audio.Loudness;

/// <summary>
/// Gating blocks (or short-term values) binned by loudness in 0.01 LU steps from −70 to +30 LUFS, each
/// bin keeping its count and the exact sum of the blocks' mean-square energies. Adding or removing a
/// block is O(1) and the memory is fixed, so a meter that has run for 100 hours updates as cheaply as
/// at minute one (FFmpeg's ebur128 also bins, libebur128 by default keeps every block). Gated results
/// walk the 10 000 bins once. The only approximation is at a gate threshold, where a bin straddling it
/// is kept or dropped whole by its mean (a 0.01 LU decision on blocks within 0.01 LU of the gate).
/// </summary>
public sealed class LoudnessHistogram
{
    /// <summary>Absolute gate of BS.1770-4 / Tech 3342, LUFS.</summary>
    public const double AbsoluteGate = -70;
    private const double Lowest = AbsoluteGate, Highest = 30, BinWidth = 0.01;
    private const int BinCount = (int)((Highest - Lowest) / BinWidth);

    private readonly long[] _counts = new long[BinCount];
    private readonly double[] _energies = new double[BinCount];
    private long _total;
    private double _totalEnergy;

    /// <summary>Blocks above the absolute gate.</summary>
    public long Count => _total;

    /// <summary>Loudness (LUFS) of a K-weighted, channel-weighted mean square.</summary>
    public static double Loudness(double energy) => -0.691 + 10 * Math.Log10(energy);

    /// <summary>Mean square energy of a loudness in LUFS.</summary>
    public static double Energy(double lufs) => Math.Pow(10, (lufs + 0.691) / 10);

    /// <summary>The bin of a block of <paramref name="energy"/>, or −1 when it is at or below the absolute gate.</summary>
    public static int BinOf(double energy)
    {
        var lufs = Loudness(energy);
        if (!(lufs > AbsoluteGate)) return -1; // also NaN and −∞
        return Math.Min(BinCount - 1, (int)((lufs - Lowest) / BinWidth));
    }

    /// <summary>Adds a block; returns its bin (−1: below the absolute gate, not kept).</summary>
    public int Add(double energy)
    {
        var bin = BinOf(energy);
        if (bin < 0) return bin;
        _counts[bin]++;
        _energies[bin] += energy;
        _total++;
        _totalEnergy += energy;
        return bin;
    }

    /// <summary>Removes a block added earlier with the same energy and the bin <see cref="Add"/> returned.</summary>
    public void Remove(int bin, double energy)
    {
        if (bin < 0) return;
        // exact zero when a bin or the whole histogram empties, so add/remove rounding cannot drift over days
        if (--_counts[bin] == 0) _energies[bin] = 0; else _energies[bin] -= energy;
        if (--_total == 0) _totalEnergy = 0; else _totalEnergy -= energy;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Array.Clear(_energies);
        _total = 0;
        _totalEnergy = 0;
    }

    /// <summary>
    /// Gated loudness (BS.1770-4 §2.8): the mean energy of the blocks above the absolute gate sets a
    /// relative gate <paramref name="relativeGate"/> LU below it (−10 for integrated loudness, −20 for
    /// the LRA distribution); the result is the mean loudness of the blocks above both. −∞ when empty.
    /// </summary>
    public double GatedLoudness(double relativeGate = -10)
    {
        var (from, _) = RelativeGateBin(relativeGate);
        if (from < 0) return double.NegativeInfinity;
        double energy = 0;
        long count = 0;
        for (var i = from; i < BinCount; i++)
        {
            energy += _energies[i];
            count += _counts[i];
        }
        return count == 0 ? double.NegativeInfinity : Loudness(energy / count);
    }

    /// <summary>
    /// Loudness range (EBU Tech 3342) when the blocks are short-term loudness values: the spread between the
    /// 10th and 95th percentiles of the values above the absolute gate and 20 LU below their mean. 0 when empty.
    /// </summary>
    public double LoudnessRange()
    {
        var (from, count) = RelativeGateBin(-20);
        if (from < 0 || count == 0) return 0;
        // percentile positions as libebur128 and the EBU reference take them: round((n − 1)·p)
        var low = (long)((count - 1) * 0.10 + 0.5);
        var high = (long)((count - 1) * 0.95 + 0.5);
        double lowLufs = double.NaN, highLufs = double.NaN;
        long seen = 0;
        for (var i = from; i < BinCount && double.IsNaN(highLufs); i++)
        {
            if (_counts[i] == 0) continue;
            seen += _counts[i];
            if (double.IsNaN(lowLufs) && seen > low) lowLufs = Loudness(_energies[i] / _counts[i]);
            if (seen > high) highLufs = Loudness(_energies[i] / _counts[i]);
        }
        return Math.Max(0, highLufs - lowLufs);
    }

    /// <summary>The loudness (LUFS) below which a fraction <paramref name="p"/> of all blocks lie, ungated; −∞ when empty.</summary>
    public double Percentile(double p)
    {
        if (_total == 0) return double.NegativeInfinity;
        var rank = (long)((_total - 1) * Math.Clamp(p, 0, 1) + 0.5);
        long seen = 0;
        for (var i = 0; i < BinCount; i++)
        {
            seen += _counts[i];
            if (seen > rank) return Loudness(_energies[i] / _counts[i]);
        }
        return double.NegativeInfinity;
    }

    /// <summary>The first bin above the relative gate and how many blocks lie at or above it; (−1, 0) when empty.</summary>
    private (int Bin, long Count) RelativeGateBin(double relativeGate)
    {
        if (_total == 0) return (-1, 0);
        var threshold = Energy(Loudness(_totalEnergy / _total) + relativeGate);
        var gateBin = BinOf(threshold);
        var from = Math.Max(0, gateBin);
        // the bin holding the gate: keep it when its blocks are above the gate on average
        if (gateBin >= 0 && _counts[gateBin] > 0 && _energies[gateBin] / _counts[gateBin] <= threshold) from++;
        long count = 0;
        for (var i = from; i < BinCount; i++) count += _counts[i];
        return (from, count);
    }
}
