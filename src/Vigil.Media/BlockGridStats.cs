using Vigil.Media.Native;

namespace Vigil.Media;

/// <summary>
/// Statistics of one picture on the codecs' block grid, measured by the native shim on the
/// FULL-resolution luma in one SIMD pass (the analysis luma is box-downscaled, which smears a 16-px
/// macroblock grid to 5.33 px at 1080p). A <em>step</em> at the edge between pixels b|c of a line
/// a b c d is how far |c − b| exceeds twice the larger of |b − a| and |d − c|: a flat-sided jump, the
/// signature of a block edge, and zero on ramps and texture. Per 8×8 block of the coded picture, the
/// maps hold the summed step excess along its left and top edges and, for comparison, along its inner
/// column and row 3, which lie on no codec's grid; the block's luma sum; and its activity, how much
/// its pixels differ from their neighbours inside it.
/// </summary>
public sealed class BlockGridStats
{
    /// <summary>Side of the blocks the maps describe.</summary>
    public const int BlockSize = 8;

    private const int Maps = 6;

    private ushort[] _maps = [];

    /// <summary>False when the source had no luma plane (RGB, packed formats) or statistics were not requested; 9-16 bit luma is measured rounded to 8 bits.</summary>
    public bool IsValid { get; internal set; }

    /// <summary>Whole 8×8 blocks across the picture (whole 16-px chunks, so always even; a partial chunk at the right is left out).</summary>
    public int BlockColumns { get; private set; }

    /// <summary>Whole 8×8 blocks down the picture.</summary>
    public int BlockRows { get; private set; }

    public int BlockCount => BlockColumns * BlockRows;

    /// <summary>Per block (row-major): summed step excess along its left edge (8 pixels).</summary>
    public ReadOnlySpan<ushort> EdgeLeft => Map(0);

    /// <summary>Per block: summed step excess along its top edge.</summary>
    public ReadOnlySpan<ushort> EdgeTop => Map(1);

    /// <summary>Per block: the same along its inner column 3, where no codec puts an edge.</summary>
    public ReadOnlySpan<ushort> InnerLeft => Map(2);

    /// <summary>Per block: the same along its inner row 3.</summary>
    public ReadOnlySpan<ushort> InnerTop => Map(3);

    /// <summary>Per block: luma sum of its 64 pixels.</summary>
    public ReadOnlySpan<ushort> Sum => Map(4);

    /// <summary>
    /// Per block: summed absolute difference between neighbouring pixels inside it (56 horizontal and
    /// 56 vertical pairs, none across its edges; at most 28,560). Low on flat and gently sloped blocks.
    /// </summary>
    public ReadOnlySpan<ushort> Activity => Map(5);

    private ReadOnlySpan<ushort> Map(int index) => _maps.AsSpan(index * BlockCount, BlockCount);

    /// <summary>Values per block in <see cref="AllMaps"/>: one per map.</summary>
    public const int MapCount = Maps;

    /// <summary>
    /// Every map back to back, in the order of the properties above (<see cref="MapCount"/> × <see cref="BlockCount"/>
    /// values): what a tool that moves statistics between processes copies, and <see cref="Load"/> takes back.
    /// </summary>
    public ReadOnlySpan<ushort> AllMaps => _maps.AsSpan(0, Maps * BlockCount);

    /// <summary>Fills these statistics from <paramref name="maps"/> laid out as <see cref="AllMaps"/> (valid afterwards).</summary>
    public void Load(int blockColumns, int blockRows, ReadOnlySpan<ushort> maps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockColumns);
        ArgumentOutOfRangeException.ThrowIfNegative(blockRows);
        var count = blockColumns * blockRows;
        if (maps.Length != Maps * count) throw new ArgumentException($"{Maps} maps of {count} blocks expected, got {maps.Length} values", nameof(maps));
        if (_maps.Length < Maps * count) _maps = new ushort[Maps * count];
        maps.CopyTo(_maps);
        (BlockColumns, BlockRows) = (blockColumns, blockRows);
        IsValid = true;
    }

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
        BlockColumns = stats.BlockCols;
        BlockRows = stats.BlockRows;
        var count = BlockCount;
        if (_maps.Length < Maps * count) _maps = new ushort[Maps * count];
        new ReadOnlySpan<ushort>(stats.EdgeLeft, count).CopyTo(_maps.AsSpan(0, count));
        new ReadOnlySpan<ushort>(stats.EdgeTop, count).CopyTo(_maps.AsSpan(count, count));
        new ReadOnlySpan<ushort>(stats.InnerLeft, count).CopyTo(_maps.AsSpan(2 * count, count));
        new ReadOnlySpan<ushort>(stats.InnerTop, count).CopyTo(_maps.AsSpan(3 * count, count));
        new ReadOnlySpan<ushort>(stats.Sum, count).CopyTo(_maps.AsSpan(4 * count, count));
        new ReadOnlySpan<ushort>(stats.Activity, count).CopyTo(_maps.AsSpan(5 * count, count));
        IsValid = true;
    }
}
