using Vigil.Detectors;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>Assertions on defects found in generated clips, with the tolerances the ground truth allows.</summary>
internal static class ClipAssert
{
    /// <summary>Video: within one frame (25 fps).</summary>
    public const double VideoTolerance = TestClips.Frame + 1e-3;

    /// <summary>Audio: within 30 ms (three 10 ms analysis blocks).</summary>
    public const double AudioTolerance = 0.030;

    public static void Interval(Defect defect, double start, double end, double tolerance)
    {
        Assert.True(Math.Abs(defect.Start - start) <= tolerance, $"{defect.Kind} start: expected {start} ± {tolerance}, got {defect.Start}");
        Assert.NotNull(defect.End);
        Assert.True(Math.Abs(defect.End!.Value - end) <= tolerance, $"{defect.Kind} end: expected {end} ± {tolerance}, got {defect.End}");
    }

    /// <summary>
    /// A trap: no <paramref name="kind"/> defect started or ended, over a clip analysed to its end
    /// (<paramref name="seconds"/> long, within a frame). Without the duration an analysis that stopped early, or
    /// decoded nothing, would pass every trap.
    /// </summary>
    public static void NoneOf(Analysis.Result result, string kind, double seconds)
    {
        Assert.True(Math.Abs(result.Summary.Duration - seconds) <= VideoTolerance,
            $"analysed {result.Summary.Duration} s of a {seconds} s clip");
        Assert.DoesNotContain(result.Started, d => d.Kind == kind);
        Assert.Empty(result.Of(kind));
    }

    /// <summary>Whether a reference filter reported anything overlapping [start, end) by at least <paramref name="minimum"/> seconds.</summary>
    public static bool Overlaps(IEnumerable<FfmpegReference.Interval> found, double start, double end, double clipEnd, double minimum = 0.5) =>
        found.Any(i => Math.Min(end, i.End ?? clipEnd) - Math.Max(start, i.Start) >= minimum);
}
