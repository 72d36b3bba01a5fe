namespace Vigil.Detectors.Transport;

/// <summary>
/// Options of a <c>ts.*</c> detector: none of its own. The indicators' limits are the standard's
/// (<see cref="Vigil.Transport.TransportOptions"/>), applied where the transport is analysed.
/// </summary>
public sealed record TransportIndicatorOptions : IDetectorOptions
{
    public void Validate()
    {
    }
}
