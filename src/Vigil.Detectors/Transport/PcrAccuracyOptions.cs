using Vigil.Transport;

namespace Vigil.Detectors.Transport;

/// <summary>
/// Options of <c>ts.pcr_accuracy_error</c>. A file's PCRs are held to TR 101 290's 500 ns of the value their
/// byte position implies at a constant mux rate; a live input's are also held to the time their bytes arrived,
/// with a tolerance of its own (<see cref="TransportOptions.PcrArrivalAccuracy"/>), applied where the transport
/// is analysed (<see cref="DetectorCatalog.DecodeFor"/>).
/// </summary>
public sealed record PcrAccuracyOptions : IDetectorOptions
{
    [Option("Live inputs (udp, rtp, srt, rist, tcp): seconds a PCR may run ahead of the lower envelope of its bytes' arrival times (sender/receiver drift fitted out); waiting bytes never count against it", Min = 0.0001, Max = 1)]
    public double ArrivalAccuracy { get; init; } = new TransportOptions().PcrArrivalAccuracy;
}
