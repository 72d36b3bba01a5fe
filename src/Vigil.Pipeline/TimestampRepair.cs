namespace Vigil.Pipeline;

/// <summary>
/// Gives every frame a usable timestamp and duration: a missing pts is extrapolated from the previous
/// frame, a missing duration comes from the next frame or the nominal rate. Detectors can then
/// rely on finite, mostly increasing times; real jumps are left for them to see.
/// </summary>
internal sealed class TimestampRepair(double nominalDuration)
{
    private double _next = double.NaN;

    public (double Pts, double Duration) Next(double pts, double duration)
    {
        if (duration <= 0 || double.IsNaN(duration)) duration = nominalDuration;
        if (double.IsNaN(pts)) pts = double.IsNaN(_next) ? 0 : _next;
        _next = pts + duration;
        return (pts, duration);
    }
}
