using Vigil.Media.Native;

namespace Vigil.Media;

/// <summary>
/// Statistics of one picture on the codecs' block grid, measured by the native shim on the
/// FULL-resolution luma in one SIMD pass (the analysis luma is box-downscaled, which smears a 16-px
/// macroblock grid to 5.33 px at 1080p). A <em>step</em> at the edge between pixels b|c of a line
/// a b c d is how far |c − b| exceeds twice the larger of |b − a| and |d − c|: a flat-sided jump, the
/// signature of a block edge, and zero on ramps and texture. Phase p is the edge before x (or y) with
/// x mod 16 == p, so phase 0 is the macroblock grid, phases 0 and 8 the 8×8 grid, multiples of 4 the 4×4 grid.
/// </summary>
public sealed class BlockGridStats
{
    /// <summary>Grid phases: positions modulo 16.</summary>
    public const int Phases = 16;

    /// <summary>A step counts in the phase histograms when its excess is at least this many code values.</summary>
    public const int StepMin = 3;

    private readonly int[] _stepsH = new int[Phases];
    private readonly int[] _stepsV = new int[Phases];
    private ushort[] _mbEdge = [];
    private uint[] _mbSum = [];

    /// <summary>False when the source had no plain 8-bit luma (10-bit, RGB) or statistics were not requested.</summary>
    public bool IsValid { get; internal set; }

    /// <summary>Vertical edges (between horizontal neighbours) with a step, by x mod 16.</summary>
    public ReadOnlySpan<int> StepsH => _stepsH;

    /// <summary>Horizontal edges (between vertical neighbours) with a step, by y mod 16.</summary>
    public ReadOnlySpan<int> StepsV => _stepsV;

    /// <summary>Edges sampled per phase in <see cref="StepsH"/>.</summary>
    public int LinesH { get; private set; }

    /// <summary>Edges sampled per phase in <see cref="StepsV"/>.</summary>
    public int LinesV { get; private set; }

    /// <summary>Whole 16×16 macroblocks across the picture.</summary>
    public int MbColumns { get; private set; }

    /// <summary>Whole 16×16 macroblocks down the picture.</summary>
    public int MbRows { get; private set; }

    public int MbCount => MbColumns * MbRows;

    /// <summary>Per macroblock (row-major): summed step excess along its left and top edges (32 pixels).</summary>
    public ReadOnlySpan<ushort> MbEdge => _mbEdge.AsSpan(0, MbCount);

    /// <summary>Per macroblock: luma sum of its 256 pixels.</summary>
    public ReadOnlySpan<uint> MbSum => _mbSum.AsSpan(0, MbCount);

    /// <summary>Measures an 8-bit plane (tests and tools; the media reader fills frames itself).</summary>
    public static unsafe void Measure(ReadOnlySpan<byte> luma, int stride, int width, int height, BlockGridStats into)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(luma.Length, stride * (height - 1) + width);
        var scratch = default(VgGridScratch);
        try
        {
            fixed (byte* p = luma)
            {
                if (NativeMethods.GridMeasure(p, stride, width, height, ref scratch, out var stats) < 0)
                    throw new OutOfMemoryException("grid statistics");
                into.CopyFrom(stats);
            }
        }
        finally
        {
            NativeMethods.GridFree(ref scratch);
        }
    }

    internal unsafe void CopyFrom(in VgGridStats stats)
    {
        fixed (int* h = stats.StepsH) new ReadOnlySpan<int>(h, Phases).CopyTo(_stepsH);
        fixed (int* v = stats.StepsV) new ReadOnlySpan<int>(v, Phases).CopyTo(_stepsV);
        LinesH = stats.LinesH;
        LinesV = stats.LinesV;
        MbColumns = stats.MbCols;
        MbRows = stats.MbRows;
        var count = MbColumns * MbRows;
        if (_mbEdge.Length < count)
        {
            _mbEdge = new ushort[count];
            _mbSum = new uint[count];
        }
        new ReadOnlySpan<ushort>(stats.MbEdge, count).CopyTo(_mbEdge);
        new ReadOnlySpan<uint>(stats.MbSum, count).CopyTo(_mbSum);
        IsValid = true;
    }
}
