using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>
/// Per-cell luma statistics over a grid of <see cref="CellSize"/>-pixel squares: the shared kernel of
/// the black and freeze detectors. Working per cell rather than per frame is what lets a small
/// moving clock keep a slate from being "frozen" and a corner logo not hide black.
/// One pass over the analysis luma, SSE2 where available, no allocation after construction.
/// </summary>
public sealed class LumaCells
{
    public const int CellSize = 16;

    private int[] _sum = [];
    private int[] _difference = [];
    private long[] _sumSquares = [];
    private int[] _dark = [];
    private int[] _pixels = [];

    public int Columns { get; private set; }
    public int Rows { get; private set; }
    public int Count => Columns * Rows;
    public int Width { get; private set; }
    public int Height { get; private set; }

    public ReadOnlySpan<int> Sum => _sum.AsSpan(0, Count);
    /// <summary>Sum of absolute differences against the reference picture (<see cref="MeasureWithDifference"/>).</summary>
    public ReadOnlySpan<int> Difference => _difference.AsSpan(0, Count);
    public ReadOnlySpan<long> SumSquares => _sumSquares.AsSpan(0, Count);
    public ReadOnlySpan<int> Dark => _dark.AsSpan(0, Count);
    /// <summary>Pixels in each cell (edge cells may be partial).</summary>
    public ReadOnlySpan<int> Pixels => _pixels.AsSpan(0, Count);

    public double Mean(int cell) => _sum[cell] / (double)_pixels[cell];

    public double Variance(int cell)
    {
        var n = (double)_pixels[cell];
        var mean = _sum[cell] / n;
        return Math.Max(0, _sumSquares[cell] / n - mean * mean);
    }

    /// <summary>Sums per cell only (the freeze detector's need).</summary>
    public void Measure(VideoFrame frame) => Run(frame, darkThreshold: -1, reference: default);

    /// <summary>
    /// Sums per cell, and the sum of absolute pixel differences against <paramref name="reference"/> (a
    /// picture of the same size): what tells texture moving through a cell from a cell that is still,
    /// when both have the same average.
    /// </summary>
    public void MeasureWithDifference(VideoFrame frame, ReadOnlySpan<byte> reference)
    {
        if (reference.Length != frame.Width * frame.Height) throw new ArgumentException("reference picture has another size", nameof(reference));
        Run(frame, darkThreshold: -1, reference);
    }

    /// <summary>Sums, sums of squares and the count of pixels at or below <paramref name="darkThreshold"/>.</summary>
    public void MeasureWithDark(VideoFrame frame, int darkThreshold) => Run(frame, Math.Clamp(darkThreshold, 0, 255), reference: default);

    /// <summary>
    /// Cell by cell, each over its 16 rows with the sums held in vector registers: one store per cell
    /// rather than one per row and cell (which made this ~2× slower). Columns past the last whole cell,
    /// and CPUs without SSE2, take the scalar path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(VideoFrame frame, int darkThreshold, ReadOnlySpan<byte> reference)
    {
        Prepare(frame.Width, frame.Height);
        var withDark = darkThreshold >= 0;
        var withDifference = !reference.IsEmpty;
        var luma = frame.Luma;
        var full = Sse2.IsSupported ? Width / CellSize : 0;
        var threshold = Vector128.Create((byte)Math.Max(0, darkThreshold));
        ref var pixels = ref MemoryMarshal.GetReference(luma);
        ref var before = ref MemoryMarshal.GetReference(reference);
        for (var r = 0; r < Rows; r++)
        {
            var top = r * CellSize;
            var height = Math.Min(CellSize, Height - top);
            for (var c = 0; c < full; c++)
            {
                var cell = r * Columns + c;
                var offset = (nint)top * Width + c * CellSize;
                ref var p = ref Unsafe.Add(ref pixels, offset);
                if (withDifference)
                {
                    (_sum[cell], _difference[cell]) = CellSumAndDifference(ref p, ref Unsafe.Add(ref before, offset), Width, height);
                }
                else if (withDark)
                {
                    (_sum[cell], _sumSquares[cell], _dark[cell]) = CellStatistics(ref p, Width, height, threshold);
                }
                else
                {
                    _sum[cell] = CellSum(ref p, Width, height);
                }
            }
            for (var c = full; c < Columns; c++)
            {
                var cell = r * Columns + c;
                _sum[cell] = _difference[cell] = _dark[cell] = 0;
                _sumSquares[cell] = 0;
            }
            if (full < Columns)
                for (var y = top; y < top + height; y++)
                    AccumulateTail(luma.Slice(y * Width, Width), withDifference ? reference.Slice(y * Width, Width) : default,
                        r * Columns, full, withDark ? darkThreshold : -1);
        }
    }

    private static int CellSum(ref byte p, int stride, int rows)
    {
        var sum = Vector128<long>.Zero;
        for (var y = 0; y < rows; y++)
            sum += Sse2.SumAbsoluteDifferences(Vector128.LoadUnsafe(ref p, (nuint)(y * stride)), Vector128<byte>.Zero).AsInt64();
        return (int)(sum.GetElement(0) + sum.GetElement(1));
    }

    private static (int Sum, int Difference) CellSumAndDifference(ref byte p, ref byte reference, int stride, int rows)
    {
        Vector128<long> sum = Vector128<long>.Zero, difference = Vector128<long>.Zero;
        for (var y = 0; y < rows; y++)
        {
            var v = Vector128.LoadUnsafe(ref p, (nuint)(y * stride));
            sum += Sse2.SumAbsoluteDifferences(v, Vector128<byte>.Zero).AsInt64();
            difference += Sse2.SumAbsoluteDifferences(v, Vector128.LoadUnsafe(ref reference, (nuint)(y * stride))).AsInt64();
        }
        return ((int)(sum.GetElement(0) + sum.GetElement(1)), (int)(difference.GetElement(0) + difference.GetElement(1)));
    }

    private static (int Sum, long Squares, int Dark) CellStatistics(ref byte p, int stride, int rows, Vector128<byte> threshold)
    {
        Vector128<long> sum = Vector128<long>.Zero;
        Vector128<int> squares = Vector128<int>.Zero; // ≤ 16 rows × 2 × 255² per lane: no overflow
        Vector128<byte> dark = Vector128<byte>.Zero;  // ≤ 16 per lane
        for (var y = 0; y < rows; y++)
        {
            var v = Vector128.LoadUnsafe(ref p, (nuint)(y * stride));
            sum += Sse2.SumAbsoluteDifferences(v, Vector128<byte>.Zero).AsInt64();
            var lo = Sse2.UnpackLow(v, Vector128<byte>.Zero).AsInt16();
            var hi = Sse2.UnpackHigh(v, Vector128<byte>.Zero).AsInt16();
            squares += Sse2.MultiplyAddAdjacent(lo, lo) + Sse2.MultiplyAddAdjacent(hi, hi);
            // unsigned v <= t  <=>  max(v, t) == t; the all-ones mask is -1, so subtracting it counts
            dark -= Vector128.Equals(Sse2.Max(v, threshold), threshold);
        }
        var darkCount = Sse2.SumAbsoluteDifferences(dark, Vector128<byte>.Zero).AsInt64();
        return ((int)(sum.GetElement(0) + sum.GetElement(1)), Vector128.Sum(squares), (int)(darkCount.GetElement(0) + darkCount.GetElement(1)));
    }

    /// <summary>
    /// Statistics of one cell as <see cref="MeasureWithDark"/> computes them, without touching the others
    /// or the stored results: lets a caller settle a picture from a few cells when they suffice.
    /// </summary>
    public (int Sum, long SumSquares, int Dark, int Pixels) MeasureCell(VideoFrame frame, int column, int row, int darkThreshold)
    {
        Prepare(frame.Width, frame.Height);
        var threshold = Math.Clamp(darkThreshold, 0, 255);
        var left = column * CellSize;
        var top = row * CellSize;
        var width = Math.Min(CellSize, Width - left);
        var height = Math.Min(CellSize, Height - top);
        var luma = frame.Luma;
        if (Sse2.IsSupported && width == CellSize)
        {
            var (sum, squares, dark) = CellStatistics(ref Unsafe.Add(ref MemoryMarshal.GetReference(luma), (nint)top * Width + left),
                Width, height, Vector128.Create((byte)threshold));
            return (sum, squares, dark, width * height);
        }
        int s = 0, d = 0;
        long q = 0;
        for (var y = top; y < top + height; y++)
            foreach (var v in luma.Slice(y * Width + left, width))
            {
                s += v;
                q += v * v;
                if (v <= threshold) d++;
            }
        return (s, q, d, width * height);
    }

    /// <summary>Sizes the grid for pictures of this size (done by every measure; cheap when unchanged).</summary>
    public void Prepare(int width, int height)
    {
        if (width == Width && height == Height) return;
        Width = width;
        Height = height;
        Columns = (width + CellSize - 1) / CellSize;
        Rows = (height + CellSize - 1) / CellSize;
        if (_sum.Length < Count)
        {
            _sum = new int[Count];
            _difference = new int[Count];
            _sumSquares = new long[Count];
            _dark = new int[Count];
            _pixels = new int[Count];
        }
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < Columns; c++)
                _pixels[r * Columns + c] = Math.Min(CellSize, width - c * CellSize) * Math.Min(CellSize, height - r * CellSize);
    }

    private void AccumulateTail(ReadOnlySpan<byte> row, ReadOnlySpan<byte> reference, int cellRow, int fromCell, int darkThreshold)
    {
        for (var x = fromCell * CellSize; x < row.Length; x++)
        {
            int v = row[x];
            var cell = cellRow + x / CellSize;
            _sum[cell] += v;
            if (!reference.IsEmpty) _difference[cell] += Math.Abs(v - reference[x]);
            if (darkThreshold < 0) continue;
            _sumSquares[cell] += v * v;
            if (v <= darkThreshold) _dark[cell]++;
        }
    }
}
