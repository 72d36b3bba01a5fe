using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vigil.Detectors.Sync;

/// <summary>
/// Power spectrum of a short real frame (a power-of-two length): one complex FFT of half the length
/// over the even/odd samples packed as real/imaginary parts, then the usual split into the real
/// signal's bins. Tables are built once; <see cref="PowerSpectrum"/> allocates nothing.
/// </summary>
public sealed class RealFft
{
    private readonly int _n, _half;
    private readonly float[] _re, _im;                 // working buffer of the half-length complex FFT
    private readonly float[] _stageCos, _stageSin;     // twiddles of every stage back to back (stage with h butterflies: h entries)
    private readonly float[] _splitCos, _splitSin;     // e^{-2πik/n}, k < n/2, for the real split
    private readonly int[] _reversed;

    public RealFft(int length)
    {
        if (length < 4 || (length & (length - 1)) != 0) throw new ArgumentException("length must be a power of two ≥ 4", nameof(length));
        _n = length;
        _half = length / 2;
        _re = new float[_half];
        _im = new float[_half];
        _stageCos = new float[Math.Max(1, _half - 1)];
        _stageSin = new float[_stageCos.Length];
        var at = 0;
        for (var h = 1; h < _half; h <<= 1)
        {
            for (var j = 0; j < h; j++)
            {
                _stageCos[at + j] = (float)Math.Cos(Math.PI * j / h);
                _stageSin[at + j] = (float)-Math.Sin(Math.PI * j / h);
            }
            at += h;
        }
        _splitCos = new float[_half];
        _splitSin = new float[_half];
        for (var k = 0; k < _half; k++)
        {
            _splitCos[k] = (float)Math.Cos(2 * Math.PI * k / _n);
            _splitSin[k] = (float)-Math.Sin(2 * Math.PI * k / _n);
        }
        _reversed = new int[_half];
        var bits = System.Numerics.BitOperations.Log2((uint)_half);
        for (var i = 0; i < _half; i++)
        {
            var r = 0;
            for (var b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
            _reversed[i] = r;
        }
    }

    public int Length => _n;

    /// <summary>|X[k]|² for k in [0, n/2) of the real frame <paramref name="frame"/> (length n).</summary>
    public void PowerSpectrum(ReadOnlySpan<float> frame, Span<float> power)
    {
        if (frame.Length != _n || power.Length < _half) throw new ArgumentException("frame must be Length long, power at least Length/2");
        ref var re = ref MemoryMarshal.GetArrayDataReference(_re);
        ref var im = ref MemoryMarshal.GetArrayDataReference(_im);
        ref var x = ref MemoryMarshal.GetReference(frame);
        ref var reversed = ref MemoryMarshal.GetArrayDataReference(_reversed);
        for (var i = 0; i < _half; i++)
        {
            var j = Unsafe.Add(ref reversed, i);
            Unsafe.Add(ref re, j) = Unsafe.Add(ref x, 2 * i);
            Unsafe.Add(ref im, j) = Unsafe.Add(ref x, 2 * i + 1);
        }
        Transform(ref re, ref im);

        // Z = FFT(even + i·odd): X[k] = E[k] + e^{-2πik/n} O[k], with E, O recovered from Z[k] and Z[m-k]*
        ref var wc = ref MemoryMarshal.GetArrayDataReference(_splitCos);
        ref var ws = ref MemoryMarshal.GetArrayDataReference(_splitSin);
        ref var p = ref MemoryMarshal.GetReference(power);
        for (var k = 0; k < _half; k++)
        {
            var m = k == 0 ? 0 : _half - k;
            float zr = Unsafe.Add(ref re, k), zi = Unsafe.Add(ref im, k), cr = Unsafe.Add(ref re, m), ci = -Unsafe.Add(ref im, m);
            float er = 0.5f * (zr + cr), ei = 0.5f * (zi + ci);
            // O = (Z - conj(Z[m-k])) / 2i
            float or = 0.5f * (zi - ci), oi = -0.5f * (zr - cr);
            float wr = Unsafe.Add(ref wc, k), wi = Unsafe.Add(ref ws, k);
            var xr = er + wr * or - wi * oi;
            var xi = ei + wr * oi + wi * or;
            Unsafe.Add(ref p, k) = xr * xr + xi * xi;
        }
    }

    /// <summary>In-place iterative radix-2 decimation-in-time over the bit-reversed buffer.</summary>
    private void Transform(ref float re, ref float im)
    {
        ref var cos = ref MemoryMarshal.GetArrayDataReference(_stageCos);
        ref var sin = ref MemoryMarshal.GetArrayDataReference(_stageSin);
        var stage = 0;
        for (var h = 1; h < _half; h <<= 1)
        {
            for (var start = 0; start < _half; start += 2 * h)
            {
                for (var j = 0; j < h; j++)
                {
                    float wr = Unsafe.Add(ref cos, stage + j), wi = Unsafe.Add(ref sin, stage + j);
                    int a = start + j, b = a + h;
                    float br = Unsafe.Add(ref re, b), bi = Unsafe.Add(ref im, b);
                    var tr = wr * br - wi * bi;
                    var ti = wr * bi + wi * br;
                    float ar = Unsafe.Add(ref re, a), ai = Unsafe.Add(ref im, a);
                    Unsafe.Add(ref re, b) = ar - tr;
                    Unsafe.Add(ref im, b) = ai - ti;
                    Unsafe.Add(ref re, a) = ar + tr;
                    Unsafe.Add(ref im, a) = ai + ti;
                }
            }
            stage += h;
        }
    }
}
