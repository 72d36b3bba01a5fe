using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>
/// Decides whether one picture is black, cell by cell (see <see cref="LumaCells"/>). A cell is black
/// when nearly all its pixels are dark AND it is flat: a dark but detailed scene has texture and is
/// not black (FFmpeg's blackdetect calls it black). A picture is black when its non-black cells lie
/// outside the central region and cover at most <see cref="BlackOptions.LogoArea"/>: a channel bug
/// on black is still black (blackdetect misses it once the bug exceeds 2 %), while a title card or
/// credits in the middle of the screen are not.
/// </summary>
public sealed class BlackFrameClassifier(BlackOptions options)
{
    /// <summary>Central cells looked at first: on ordinary content one of them already rules black out.</summary>
    private const int ProbeCount = 8;

    private readonly LumaCells _cells = new();
    private bool[] _masked = [];
    private bool[] _central = [];
    private int[] _probes = [];

    /// <summary>Share of pixels at or below the dark threshold in the last picture classified black (NaN when ruled out early).</summary>
    public double DarkFraction { get; private set; }

    public bool IsBlack(VideoFrame frame)
    {
        // 10 % of nominal range above black: Y <= 37 for limited range, as blackdetect's pix_th.
        var threshold = frame.FullRange
            ? (int)(options.PixelThreshold * 255)
            : 16 + (int)(options.PixelThreshold * 219);
        _cells.Prepare(frame.Width, frame.Height);
        PrepareRegions();
        // detail in the middle of the picture is never black: a few central cells settle most pictures
        // for a fraction of measuring them all (the answer is the same as the full pass below)
        foreach (var probe in _probes)
        {
            var (sum, squares, darkPixels, count) = _cells.MeasureCell(frame, probe % _cells.Columns, probe / _cells.Columns, threshold);
            if (!IsBlackCell(sum, squares, darkPixels, count))
            {
                DarkFraction = double.NaN;
                return false;
            }
        }

        _cells.MeasureWithDark(frame, threshold);
        var pixels = _cells.Pixels;
        var dark = _cells.Dark;
        double area = 0, darkArea = 0, nonBlackArea = 0;
        var centralDetail = false;
        for (var i = 0; i < _cells.Count; i++)
        {
            if (_masked[i]) continue;
            area += pixels[i];
            darkArea += dark[i];
            if (IsBlackCell(_cells.Sum[i], _cells.SumSquares[i], dark[i], pixels[i])) continue;
            nonBlackArea += pixels[i];
            if (_central[i]) centralDetail = true;
        }
        DarkFraction = area > 0 ? darkArea / area : 0;
        return area > 0 && !centralDetail && nonBlackArea <= options.LogoArea * area;
    }

    /// <summary>Nearly all pixels dark, and flat: a dark but detailed cell is picture, not black.</summary>
    private bool IsBlackCell(int sum, long squares, int dark, int pixels)
    {
        var mean = sum / (double)pixels;
        var variance = squares / (double)pixels - mean * mean;
        return dark >= options.PictureThreshold * pixels && variance <= options.MaxDetail * options.MaxDetail;
    }

    /// <summary>Up to <see cref="ProbeCount"/> unmasked central cells, spread evenly over the central region.</summary>
    // (its own method: the lambdas' closure would otherwise be allocated on every PrepareRegions call)
    private int[] ChooseProbes()
    {
        var candidates = Enumerable.Range(0, _central.Length).Where(i => _central[i] && !_masked[i]).ToArray();
        return candidates.Length <= ProbeCount
            ? candidates
            : Enumerable.Range(0, ProbeCount).Select(k => candidates[(2 * k + 1) * candidates.Length / (2 * ProbeCount)]).ToArray();
    }

    private void PrepareRegions()
    {
        var count = _cells.Count;
        if (_masked.Length == count) return;
        _masked = new bool[count];
        _central = new bool[count];
        for (var r = 0; r < _cells.Rows; r++)
            for (var c = 0; c < _cells.Columns; c++)
            {
                var x = (c + 0.5) * LumaCells.CellSize / _cells.Width;
                var y = (r + 0.5) * LumaCells.CellSize / _cells.Height;
                _masked[r * _cells.Columns + c] = options.Mask.Covers(x, y);
                // The middle half in each direction: leaves each corner a quarter by a quarter (6.25 %
                // of the frame), room for a bug well over blackdetect's 2 % (a 0.2–0.8 centre left only 4 %).
                _central[r * _cells.Columns + c] = x is > 0.25 and < 0.75 && y is > 0.25 and < 0.75;
            }
        _probes = ChooseProbes();
    }
}
