using Vigil.Detectors;

namespace Vigil.Tests;

/// <summary>Shorthands for driving detectors in tests (in the root namespace, so every test sees them).</summary>
public static class DetectorTesting
{
    /// <summary>End of input at <paramref name="endOfInput"/>, as the pipeline flushes at a clean end.</summary>
    public static void Flush(this IDetector detector, double endOfInput) => detector.Flush(endOfInput, ClosedBy.EndOfInput);
}
