using Vigil.Media;

namespace Vigil.Pipeline;

/// <summary>
/// Watches an analysis without being a detector (the service's arrival and progress taps, the corpus
/// recorder): told before and after the detectors see each picture or audio block, of every bitstream
/// event, and of the end. Called on the analysis thread, in media order, like the detectors; a frame or
/// block is only valid during the call unless the observer retains it. Every method does nothing
/// unless implemented.
/// </summary>
public interface IAnalysisObserver
{
    /// <summary>Before any detector sees <paramref name="frame"/> (a defect confirmed on it can be shown with it).</summary>
    void BeforeVideo(VideoFrame frame)
    {
    }

    /// <summary>After every detector has seen <paramref name="frame"/> (their verdicts on it can be read).</summary>
    void AfterVideo(VideoFrame frame)
    {
    }

    /// <summary>Before any detector hears <paramref name="block"/>.</summary>
    void BeforeAudio(AudioBlock block)
    {
    }

    /// <summary>After every detector has heard <paramref name="block"/>.</summary>
    void AfterAudio(AudioBlock block)
    {
    }

    /// <summary>A bitstream event (continuity error, decode error, timestamp jump, frame gap, codec change), after the detectors.</summary>
    void OnMediaEvent(in MediaEvent mediaEvent)
    {
    }

    /// <summary>The analysis ended, after every detector was flushed.</summary>
    void OnEnd(in AnalysisEnd end)
    {
    }
}

/// <summary>What ended an analysis.</summary>
public enum EndReason
{
    /// <summary>The input ended (or the requested duration was reached).</summary>
    EndOfInput,

    /// <summary>The input failed (a read or decode error, a stall, a bug in a detector).</summary>
    Error,

    /// <summary>The caller cancelled the analysis.</summary>
    Cancelled,
}

/// <summary>How an analysis ended: why, at which media time (the last analysed), and the failure if it failed.</summary>
public readonly record struct AnalysisEnd(EndReason Reason, double MediaTime, Exception? Failure = null);
