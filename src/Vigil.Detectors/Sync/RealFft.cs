namespace Vigil.Detectors.Sync;

/// <summary>
/// Power spectrum of a short real frame (a power-of-two length): one complex FFT of half the length
/// over the even/odd samples packed as real/imaginary parts, then the usual split into the real
/// signal's bins. Tables are built once; <see cref="PowerSpectrum"/> allocates nothing.
/// </summary>
public sealed class RealFft
{
    private readonly int _n, _half;
    private readonly float[] _re, _im;          // working buffer of the half-length complex FFT
    private readonly float[] _cos, _sin;        // twiddles of the half-length FFT
    private readonly float[] _splitCos, _splitSin; // e^{-2πik/n}, k < n/2, for the real split
    private readonly int[] _reversed;

    public RealFft(int length)
    {
        if (length < 4 || (length & (length - 1)) != 0) throw new ArgumentException("length must be a power of two ≥ 4", nameof(length));
        _n = length;
        _half = length / 2;
        _re = new float[_half];
        _im = new float[_half];
        _cos = new float[_half / 2];
        _sin = new float[_half / 2];
        for (var k = 0; k < _half / 2; k++)
        {
            _cos[k] = (float)Math.Cos(2 * Math.PI * k / _half);
            _sin[k] = (float)-Math.Sin(2 * Math.PI * k / _half);
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
        for (var i = 0; i < _half; i++)
        {
            var j = _reversed[i];
            _re[j] = frame[2 * i];
            _im[j] = frame[2 * i + 1];
        }
        Transform();

        // Z = FFT(even + i·odd): X[k] = E[k] + e^{-2πik/n} O[k], with E, O recovered from Z[k] and Z[m-k]*
        for (var k = 0; k < _half; k++)
        {
            var m = k == 0 ? 0 : _half - k;
            float zr = _re[k], zi = _im[k], cr = _re[m], ci = -_im[m];
            float er = 0.5f * (zr + cr), ei = 0.5f * (zi + ci);
            // O = (Z - conj(Z[m-k])) / 2i
            float dr = 0.5f * (zr - cr), di = 0.5f * (zi - ci);
            float or = di, oi = -dr;
            float wr = _splitCos[k], wi = _splitSin[k];
            var xr = er + wr * or - wi * oi;
            var xi = ei + wr * oi + wi * or;
            power[k] = xr * xr + xi * xi;
        }
    }

    /// <summary>In-place iterative radix-2 decimation-in-time over the bit-reversed buffer.</summary>
    private void Transform()
    {
        for (var size = 2; size <= _half; size <<= 1)
        {
            var halfSize = size >> 1;
            var stride = _half / size;
            for (var start = 0; start < _half; start += size)
            {
                for (var j = 0; j < halfSize; j++)
                {
                    float wr = _cos[j * stride], wi = _sin[j * stride];
                    int a = start + j, b = a + halfSize;
                    var tr = wr * _re[b] - wi * _im[b];
                    var ti = wr * _im[b] + wi * _re[b];
                    _re[b] = _re[a] - tr;
                    _im[b] = _im[a] - ti;
                    _re[a] += tr;
                    _im[a] += ti;
                }
            }
        }
    }
}
