using Vigil.Transport;

namespace Vigil.Media;

/// <summary>
/// A TR 101 290 indicator raised or cleared (<see cref="TransportEvent"/>), at <see cref="Pts"/>: seconds
/// from the start of the input on the programme's own clock, like every other item's timestamp (NaN before
/// the programme's first PCR). <see cref="Program"/>: the decoded programme it is on (<see cref="MediaInfo.Program"/>),
/// 0 for the multiplex as a whole and for an input decoded as one.
/// </summary>
public readonly record struct TransportFinding(TransportEvent Event, double Pts, int Program = 0);
