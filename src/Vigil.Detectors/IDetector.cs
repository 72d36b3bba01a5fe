using Vigil.Detectors.Audio.Loudness;
using Vigil.Media;

namespace Vigil.Detectors;

/// <summary>
/// A defect detector for one stream. Configured once (its constructor), then fed in media-time
/// order from a single thread; it reports through the <see cref="IDefectSink"/> it was built with.
/// Besides its own input (the sub-interfaces below) the pipeline tells it of media time passing, of
/// breaks in the timeline and of the end of input; timestamps are continuous media time throughout.
/// </summary>
public interface IDetector
{
    /// <summary>The defect kind it reports, e.g. <c>video.black</c>.</summary>
    string Kind { get; }

    /// <summary>
    /// Media time has reached <paramref name="now"/> on every track still delivering (a track silent for
    /// <see cref="Continuity.StoppedTrack"/> no longer holds it back). Called at least every
    /// <see cref="Continuity.TickSeconds"/> of media time, so a defect whose rule says it is over when
    /// time passes without the detector's own kind of input closes then, not at its next input.
    /// </summary>
    void Tick(double now);

    /// <summary>
    /// The media of one track does not continue what came before (<see cref="Discontinuity"/>): nothing
    /// that needs continuity may straddle it. Comes before the first item after the break.
    /// </summary>
    void OnDiscontinuity(in Discontinuity discontinuity);

    /// <summary>
    /// End of input, whatever ended it (the input's end, a failure, cancellation): close every open
    /// interval, at <paramref name="endOfInput"/> (the last media time analysed) at the latest, each
    /// with <c>details.closed_by</c> = <paramref name="closedBy"/> (<see cref="ClosedBy"/>).
    /// </summary>
    void Flush(double endOfInput, string closedBy);
}

/// <summary>A detector that looks at pictures. It must not keep the frame past the call.</summary>
public interface IVideoDetector : IDetector
{
    void Process(VideoFrame frame);
}

/// <summary>A detector that listens to audio. It must not keep the block past the call.</summary>
public interface IAudioDetector : IDetector
{
    void Process(AudioBlock block);
}

/// <summary>A detector that also wants the converter's bitstream events (continuity errors, decode errors).</summary>
public interface IMediaEventDetector : IDetector
{
    void Process(MediaEvent mediaEvent);
}

/// <summary>
/// A detector that listens to loudness (BS.1770 100 ms steps) rather than to samples: the pipeline
/// meters the stream once, for its summary, and hands every step to each of these.
/// </summary>
public interface ILoudnessDetector : IDetector, ILoudnessObserver;

/// <summary>
/// A detector of the transport (MPEG-TS inputs): it hears the TR 101 290 indicators the transport analyser
/// raises and clears, at media time.
/// </summary>
public interface ITransportDetector : IDetector
{
    void Process(in TransportFinding finding);
}
