using Vigil.Media;

namespace Vigil.Detectors;

/// <summary>
/// A defect detector for one stream. Configured once (its constructor), then fed in media-time
/// order from a single thread; it reports through the <see cref="IDefectSink"/> it was built with.
/// </summary>
public interface IDetector
{
    /// <summary>The defect kind it reports, e.g. <c>video.black</c>.</summary>
    string Kind { get; }

    /// <summary>End of input: close any open interval at media time <paramref name="endOfInput"/>.</summary>
    void Flush(double endOfInput);
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
