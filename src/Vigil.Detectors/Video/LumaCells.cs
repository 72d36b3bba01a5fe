using System.Numerics;
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
    public void Measure(VideoFrame frame) => Run(frame, darkThreshold: -1);

    /// <summary>
    /// Sums per cell, and the sum of absolute pixel differences against <paramref name="reference"/> (a
    /// picture of the same size): what tells texture moving through a cell from a cell that is still,
    /// when both have the same average.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MeasureWithDifference(VideoFrame frame, ReadOnlySpan<byte> reference)
    {
        Resize(frame.Width, frame.Height);
        if (reference.Length != Width * Height) throw new ArgumentException("reference picture has another size", nameof(reference));
        _sum.AsSpan(0, Count).Clear();
        _difference.AsSpan(0, Count).Clear();
        var luma = frame.Luma;
        var full = Width / CellSize;
        for (var y = 0; y < Height; y++)
        {
            var row = luma.Slice(y * Width, Width);
            var before = reference.Slice(y * Width, Width);
            var cellRow = (y / CellSize) * Columns;
            ref var src = ref MemoryMarshal.GetReference(row);
            ref var old = ref MemoryMarshal.GetReference(before);
            var c = 0;
            if (Sse2.IsSupported)
            {
                for (; c < full; c++)
                {
                    var v = Vector128.LoadUnsafe(ref src, (nuint)(c * CellSize));
                    var r = Vector128.LoadUnsafe(ref old, (nuint)(c * CellSize));
                    var sum = Sse2.SumAbsoluteDifferences(v, Vector128<byte>.Zero).AsInt32();
                    var sad = Sse2.SumAbsoluteDifferences(v, r).AsInt32();
                    _sum[cellRow + c] += sum.GetElement(0) + sum.GetElement(2);
                    _difference[cellRow + c] += sad.GetElement(0) + sad.GetElement(2);
                }
            }
            for (var x = c * CellSize; x < Width; x++)
            {
                var cell = cellRow + x / CellSize;
                _sum[cell] += row[x];
                _difference[cell] += Math.Abs(row[x] - before[x]);
            }
        }
    }

    /// <summary>Sums, sums of squares and the count of pixels at or below <paramref name="darkThreshold"/>.</summary>
    public void MeasureWithDark(VideoFrame frame, int darkThreshold) => Run(frame, darkThreshold);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(VideoFrame frame, int darkThreshold)
    {
        Resize(frame.Width, frame.Height);
        _sum.AsSpan(0, Count).Clear();
        var withDark = darkThreshold >= 0;
        if (withDark)
        {
            _sumSquares.AsSpan(0, Count).Clear();
            _dark.AsSpan(0, Count).Clear();
        }
        var luma = frame.Luma;
        for (var y = 0; y < Height; y++)
        {
            var row = luma.Slice(y * Width, Width);
            var cellRow = (y / CellSize) * Columns;
            if (withDark) AccumulateRowWithDark(row, cellRow, (byte)Math.Min(darkThreshold, 255));
            else AccumulateRow(row, cellRow);
        }
    }

    private void Resize(int width, int height)
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

    private void AccumulateRow(ReadOnlySpan<byte> row, int cellRow)
    {
        ref var sums = ref MemoryMarshal.GetArrayDataReference(_sum);
        ref var src = ref MemoryMarshal.GetReference(row);
        var full = row.Length / CellSize;
        if (Sse2.IsSupported)
        {
            for (var c = 0; c < full; c++)
            {
                var v = Vector128.LoadUnsafe(ref src, (nuint)(c * CellSize));
                var sad = Sse2.SumAbsoluteDifferences(v, Vector128<byte>.Zero).AsInt32();
                Unsafe.Add(ref sums, cellRow + c) += sad.GetElement(0) + sad.GetElement(2);
            }
        }
        else
        {
            for (var c = 0; c < full; c++)
            {
                var s = 0;
                for (var i = 0; i < CellSize; i++) s += Unsafe.Add(ref src, c * CellSize + i);
                Unsafe.Add(ref sums, cellRow + c) += s;
            }
        }
        AccumulateTail(row, cellRow, full, -1);
    }

    private void AccumulateRowWithDark(ReadOnlySpan<byte> row, int cellRow, byte darkThreshold)
    {
        ref var src = ref MemoryMarshal.GetReference(row);
        var full = row.Length / CellSize;
        if (Sse2.IsSupported)
        {
            var threshold = Vector128.Create(darkThreshold);
            for (var c = 0; c < full; c++)
            {
                var v = Vector128.LoadUnsafe(ref src, (nuint)(c * CellSize));
                var sad = Sse2.SumAbsoluteDifferences(v, Vector128<byte>.Zero).AsInt32();
                var lo = Sse2.UnpackLow(v, Vector128<byte>.Zero).AsInt16();
                var hi = Sse2.UnpackHigh(v, Vector128<byte>.Zero).AsInt16();
                var squares = Sse2.Add(Sse2.MultiplyAddAdjacent(lo, lo), Sse2.MultiplyAddAdjacent(hi, hi));
                // unsigned v <= t  <=>  max(v, t) == t
                var dark = Vector128.Equals(Sse2.Max(v, threshold), threshold).ExtractMostSignificantBits();
                var cell = cellRow + c;
                _sum[cell] += sad.GetElement(0) + sad.GetElement(2);
                _sumSquares[cell] += Vector128.Sum(squares);
                _dark[cell] += BitOperations.PopCount(dark);
            }
        }
        else
        {
            full = 0; // scalar tail handles the whole row
        }
        AccumulateTail(row, cellRow, full, darkThreshold);
    }

    private void AccumulateTail(ReadOnlySpan<byte> row, int cellRow, int fromCell, int darkThreshold)
    {
        for (var x = fromCell * CellSize; x < row.Length; x++)
        {
            int v = row[x];
            var cell = cellRow + x / CellSize;
            _sum[cell] += v;
            if (darkThreshold < 0) continue;
            _sumSquares[cell] += v * v;
            if (v <= darkThreshold) _dark[cell]++;
        }
    }
}
