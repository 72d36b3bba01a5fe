using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>
/// <c>video.blockiness</c>: compression blocking strong enough to see, sustained for the minimum duration.
/// Each picture is scored on its own (FFmpeg 5.1's blockdetect never resets its sums, so its value is a
/// running average that a blocky frame barely moves) from the native full-resolution grid statistics
/// (<see cref="BlockGridStats"/>), by two measures, each "what the block grid adds" over the same
/// measure where no codec puts an edge, so that content sets its own baseline:
/// <para>Steps (MPEG-2 and every codec): the share of blocks whose left AND top edges both carry a flat-sided
/// step, minus the share of blocks whose inner column and row 3 (on no codec's grid) do. Texture makes
/// steps everywhere, flat graphics nowhere, so only what the grid adds is left; graphics whose long
/// straight edges happen to lie on the grid step one edge of a block, rarely both. Steps far larger than
/// a quantiser leaves (over 12 code values a pixel) are content edges: small flat
/// graphics drawn on the grid (testsrc2's squares and dotted path) step both edges of their blocks, but by
/// tens of code values, whereas blocking is a staircase of small steps across smooth areas.</para>
/// <para>Flat patches (codecs with in-loop deblocking): starved H.264 and HEVC show almost no flat-sided
/// steps, because the deblocking filter ramps every edge over a few pixels — but it cannot restore what
/// the quantiser dropped. What remains is a mosaic of 16-, 32- or 64-px patches, each flat (or gently
/// sloped) inside, whose levels differ from patch to patch by a few code values. So the measure looks at
/// the block means and the detail inside blocks, not at the edge profile: two neighbouring 8×8 blocks that
/// are both flat inside and whose means differ by a small step (3–20 code values) make a "patch step".
/// Counted across the 16-px grid (and the 32-px grid, where HEVC's larger coding blocks put their edges
/// and the density of steps doubles) and compared with the same count across the lines 8 px off that
/// grid. Smooth content (a sky, a gradient) is flat inside its blocks too, but its level changes as much
/// between two blocks of one macroblock as across macroblocks, so on and off the grid cancel out; texture
/// and grain make no flat blocks; flat graphics have flat blocks with no step between them, and where they
/// do step, by more than the cap; an encoder at ordinary quality leaves faint mottling under the minimum
/// step. Requiring both blocks flat is what makes the step visible as blocking rather than detail.
/// Measured on the corpus: starved (QP 51) H.264 and HEVC pictures score 0.069–0.23, clean ones and the
/// traps under 0.045; the patch score is per picture, and only a stretch of a second makes a defect.
/// (This replaced a check for fainter flat-sided steps on the macroblock grid: at a threshold that spared
/// x264's and x265's mottling at ordinary quality it found half of the starved H.264 pictures and no
/// starved HEVC, and it fired on the clean I-frame after a starved stretch and after hard cuts.)</para>
/// Isolated blocky pictures (the I-frames of a clean MPEG-2 stream, the picture after a hard cut) do not
/// make a defect: blocking must hold, frame after frame, for the minimum duration.
/// </summary>
public sealed class BlockinessDetector : IVideoDetector
{
    public const string KindName = "video.blockiness";

    private readonly BlockinessOptions _options;
    private readonly IntervalTracker _tracker;
    private readonly bool _deblocked;
    private double _scoreSum;
    private int _scored;

    /// <param name="options">Thresholds, validated.</param>
    /// <param name="sink">Where defects go.</param>
    /// <param name="codec">FFmpeg's codec name of the stream (<c>mpeg2video</c>, <c>h264</c>, <c>hevc</c>); null when unknown.</param>
    public BlockinessDetector(BlockinessOptions options, IDefectSink sink, string? codec = null)
    {
        _options = options;
        // MPEG-1/2, MPEG-4 part 2, H.263, JPEG: 8x8 DCT blocks, no in-loop deblocking, so no flat patches
        // to look for: their blocking keeps its flat-sided steps (and an unknown codec gets both measures)
        _deblocked = codec is not ("mpeg1video" or "mpeg2video" or "mpeg4" or "h263" or "mjpeg");
        _tracker = new IntervalTracker(KindName, options.MinDuration, sink, bridge: options.Bridge)
        {
            Details = () => new Dictionary<string, double> { ["score"] = Math.Round(_scoreSum / Math.Max(1, _scored), 3) },
        };
    }

    public string Kind => KindName;

    /// <summary>
    /// The last picture's score (≥ 1 is blocky): the largest of the grid scores that apply to the codec,
    /// each over its threshold; NaN without grid statistics (RGB or packed sources).
    /// </summary>
    public double LastScore { get; private set; } = double.NaN;

    public void Process(VideoFrame frame)
    {
        var grid = frame.Grid;
        LastScore = grid.IsValid ? Score(grid) : double.NaN;
        // no statistics: no verdict, which cannot start or extend a defect
        var blocky = LastScore >= 1;
        if (!_tracker.IsOpen) { _scoreSum = 0; _scored = 0; }
        if (blocky) { _scoreSum += LastScore; _scored++; }
        _tracker.Update(blocky, frame.Pts, frame.Pts + frame.Duration, blocky ? Math.Clamp(LastScore / 2, 0.5, 1) : 0);
    }

    public void Tick(double now) => _tracker.Tick(now);

    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Track == MediaTrack.Video) _tracker.Break();
    }

    public void Flush(double endOfInput, string closedBy) => _tracker.Close(closedBy: closedBy);

    /// <summary>
    /// The share of blocks whose left and top edges both reach the step without passing its cap, minus the
    /// share of blocks whose inner column and row both do; over the threshold. For codecs with in-loop
    /// deblocking, the larger of that and the flat-patch score over its threshold.
    /// </summary>
    private double Score(BlockGridStats grid)
    {
        var left = grid.EdgeLeft;
        var top = grid.EdgeTop;
        var innerLeft = grid.InnerLeft;
        var innerTop = grid.InnerTop;
        if (left.Length == 0) return 0;
        // an edge is stepped when its excess lies in [step, cap]: width of the band, for one unsigned compare
        var step = _options.BlockStep;
        var band = (uint)(_options.BlockStepCap - step);
        int on = 0, inner = 0;
        for (var i = 0; i < left.Length; i++)
        {
            if ((uint)(left[i] - step) <= band && (uint)(top[i] - step) <= band) on++;
            if ((uint)(innerLeft[i] - step) <= band && (uint)(innerTop[i] - step) <= band) inner++;
        }
        var score = (on - inner) / (double)left.Length / _options.Threshold;
        return _deblocked ? Math.Max(score, PatchScore(grid) / _options.PatchThreshold) : score;
    }

    /// <summary>
    /// Share of neighbouring flat blocks a patch step apart across the 16-px grid, or across the 32-px grid
    /// if more, minus the share across the lines 8 px off the grid; horizontal and vertical neighbours summed.
    /// </summary>
    private double PatchScore(BlockGridStats grid)
    {
        int columns = grid.BlockColumns, rows = grid.BlockRows;
        if (columns < 5 || rows < 5) return 0; // at least one pair of each class
        ref var sum = ref MemoryMarshal.GetReference(grid.Sum);
        ref var activity = ref MemoryMarshal.GetReference(grid.Activity);
        var flatScalar = Math.Min(_options.FlatActivity, ushort.MaxValue);
        var flat = Vector128.Create((ushort)flatScalar);
        // block sums are 64 × the mean: a step lies in [step, cap], one unsigned compare on the band
        var step = (int)Math.Round(_options.PatchStep * 64);
        var band = (int)Math.Round(_options.PatchStepCap * 64) - step;
        var stepV = Vector128.Create((ushort)step);
        var bandV = Vector128.Create((ushort)band);
        // pair counts by where the edge between neighbours k | k + 1 (column or row index k) lies: k even,
        // 8 px off the 16-px grid; k % 4 == 1, on the 16-px grid; k % 4 == 3, on the 32-px grid too
        Span<int> across = stackalloc int[4];
        Span<int> down = stackalloc int[4];
        for (var row = 0; row < rows; row++)
        {
            var first = row * columns;
            var below = row + 1 < rows;
            // per lane: pairs counted so far in this row (a stepped pair is all ones, so subtracting counts it)
            Vector128<ushort> acrossLanes = default, downLanes = default;
            var column = 0;
            // vectors of 8 start at multiples of 8, so lane j holds columns ≡ j (mod 4) whatever the vector
            for (; column + 8 < columns; column += 8)
            {
                var i = (nuint)(first + column);
                var level = Vector128.LoadUnsafe(ref sum, i);
                var isFlat = Vector128.LessThan(Vector128.LoadUnsafe(ref activity, i), flat);
                acrossLanes -= isFlat & Stepped(level, Vector128.LoadUnsafe(ref sum, i + 1), Vector128.LoadUnsafe(ref activity, i + 1));
                if (below)
                    downLanes -= isFlat & Stepped(level, Vector128.LoadUnsafe(ref sum, i + (nuint)columns), Vector128.LoadUnsafe(ref activity, i + (nuint)columns));
            }
            for (var j = 0; j < Vector128<ushort>.Count; j++) across[j & 3] += acrossLanes.GetElement(j);
            var downCount = (int)Vector128.Sum(Vector128.WidenLower(downLanes) + Vector128.WidenUpper(downLanes));
            for (; column < columns; column++)
            {
                var i = first + column;
                if (Unsafe.Add(ref activity, i) >= flatScalar) continue;
                int level = Unsafe.Add(ref sum, i);
                if (column + 1 < columns && Unsafe.Add(ref activity, i + 1) < flatScalar &&
                    (uint)(Math.Abs(level - Unsafe.Add(ref sum, i + 1)) - step) <= (uint)band)
                    across[column & 3]++;
                if (below && Unsafe.Add(ref activity, i + columns) < flatScalar &&
                    (uint)(Math.Abs(level - Unsafe.Add(ref sum, i + columns)) - step) <= (uint)band)
                    downCount++;
            }
            down[row & 3] += downCount;
        }
        // how many pairs of each class: k in [0, n) with n neighbours per line
        int n = columns - 1, m = rows - 1;
        double off = (across[0] + across[2]) / (double)((n + 1) / 2 * rows) + (down[0] + down[2]) / (double)((m + 1) / 2 * columns);
        double on16 = (across[1] + across[3]) / (double)(n / 2 * rows) + (down[1] + down[3]) / (double)(m / 2 * columns);
        double on32 = across[3] / (double)(n / 4 * rows) + down[3] / (double)(m / 4 * columns);
        return Math.Max(on16, on32) - off;

        // both flat, means a patch step apart (unsigned: a difference under the step wraps far past the band)
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Vector128<ushort> Stepped(Vector128<ushort> level, Vector128<ushort> neighbour, Vector128<ushort> neighbourActivity) =>
            Vector128.LessThan(neighbourActivity, flat) &
            Vector128.LessThanOrEqual(Vector128.Max(level, neighbour) - Vector128.Min(level, neighbour) - stepV, bandV);
    }
}
