using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>
/// <c>video.blockiness</c>: compression blocking strong enough to see, sustained for the minimum duration.
/// Each picture is scored on its own (FFmpeg 5.1's blockdetect never resets its sums, so its value is a
/// running average that a blocky frame barely moves) from the native full-resolution grid statistics
/// (<see cref="BlockGridStats"/>): the share of blocks whose left AND top edges both carry a flat-sided
/// step, minus the share of blocks whose inner column and row 3 (on no codec's grid) do. Content sets
/// that inner rate — texture makes steps everywhere, flat graphics nowhere — so only what the block
/// grid adds is left; and graphics whose long straight edges happen to lie on the grid step one edge of
/// a block, rarely both. Steps far larger than a quantiser leaves (over 12 code values a pixel; 6 on the
/// macroblock grid) are content edges and do not count: small flat graphics drawn on the grid (testsrc2's
/// squares and dotted path) step both edges of their blocks, but by tens of code values, whereas blocking
/// is a staircase of small steps across smooth areas. Where the codec puts its block edges decides where to look: the 8×8 grid
/// (MPEG-2, and every codec) and, for codecs with in-loop deblocking (H.264, HEVC), also the 16×16
/// macroblock grid with a softer step, since the filter leaves only fainter steps there. Isolated blocky
/// pictures (the I-frames of a clean MPEG-2 stream) do not make a defect: blocking must hold, frame
/// after frame, for the minimum duration.
/// Limit, measured on the corpus: starved H.264 and HEVC (QP 51) mostly turn into blur; what steps
/// remain are as faint as x264's or x265's mottling of noisy flat areas at ordinary quality, so the
/// thresholds catch only the stronger half of starved H.264 pictures and no starved HEVC (HEVC's
/// deblocking and SAO act over blocks up to 64 px). A blur detector is the tool for those.
/// </summary>
public sealed class BlockinessDetector : IVideoDetector
{
    public const string KindName = "video.blockiness";

    private readonly BlockinessOptions _options;
    private readonly IntervalTracker _tracker;
    private readonly bool _macroblocks;
    private double _scoreSum;
    private int _scored;

    /// <param name="options">Thresholds, validated.</param>
    /// <param name="sink">Where defects go.</param>
    /// <param name="codec">FFmpeg's codec name of the stream (<c>mpeg2video</c>, <c>h264</c>, <c>hevc</c>); null when unknown.</param>
    public BlockinessDetector(BlockinessOptions options, IDefectSink sink, string? codec = null)
    {
        _options = options;
        // MPEG-1/2, MPEG-4 part 2, H.263, JPEG: 8x8 DCT blocks, no in-loop deblocking
        var eightOnly = codec is "mpeg1video" or "mpeg2video" or "mpeg4" or "h263" or "mjpeg";
        _macroblocks = !eightOnly;
        _tracker = new IntervalTracker(KindName, options.MinDuration, sink, bridge: options.Bridge)
        {
            Details = () => new Dictionary<string, double> { ["score"] = Math.Round(_scoreSum / Math.Max(1, _scored), 3) },
        };
    }

    public string Kind => KindName;

    /// <summary>
    /// The last picture's score (≥ 1 is blocky): the largest of the grid scores that apply to the codec,
    /// each over its threshold; NaN without grid statistics (10-bit or RGB sources).
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

    public void Flush(double endOfInput) => _tracker.Close();

    /// <summary>
    /// For each grid (8 and 16 px): the share of blocks at that grid's corners whose left and top edges
    /// both reach the grid's step without passing its cap, minus the share of all blocks whose inner column and row both do.
    /// </summary>
    private double Score(BlockGridStats grid)
    {
        var left = grid.EdgeLeft;
        var top = grid.EdgeTop;
        var innerLeft = grid.InnerLeft;
        var innerTop = grid.InnerTop;
        var columns = grid.BlockColumns;
        // an edge is stepped when its excess lies in [step, cap]: width of the band, for one unsigned compare
        int step = _options.BlockStep, soft = _options.MacroblockStep;
        uint band = (uint)(_options.BlockStepCap - step), softBand = (uint)(_options.MacroblockStepCap - soft);
        int on8 = 0, inner8 = 0, on16 = 0, inner16 = 0, count16 = 0;
        for (var row = 0; row < grid.BlockRows; row++)
        {
            var first = row * columns;
            for (var i = first; i < first + columns; i++)
            {
                if ((uint)(left[i] - step) <= band && (uint)(top[i] - step) <= band) on8++;
                if ((uint)(innerLeft[i] - step) <= band && (uint)(innerTop[i] - step) <= band) inner8++;
                if ((uint)(innerLeft[i] - soft) <= softBand && (uint)(innerTop[i] - soft) <= softBand) inner16++;
            }
            if ((row & 1) != 0) continue;
            // blocks at macroblock corners: even column and row
            for (var i = first; i < first + columns; i += 2)
            {
                count16++;
                if ((uint)(left[i] - soft) <= softBand && (uint)(top[i] - soft) <= softBand) on16++;
            }
        }
        if (count16 == 0) return 0;
        double blocks = left.Length;
        var score = (on8 - inner8) / blocks / _options.Threshold;
        if (_macroblocks) score = Math.Max(score, (on16 / (double)count16 - inner16 / blocks) / _options.MacroblockThreshold);
        return score;
    }
}
