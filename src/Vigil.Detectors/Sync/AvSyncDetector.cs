using Vigil.Media;

namespace Vigil.Detectors.Sync;

/// <summary>
/// <c>av.sync</c>: audio ahead of or behind the picture, measured without a reference, with
/// <c>details.offset_ms</c> &gt; 0 when audio is late. Two levels of evidence:
/// <list type="bullet">
/// <item>content: every <see cref="AvSyncOptions.Step"/> the last <see cref="AvSyncOptions.Window"/>
/// seconds of video change (cuts, flashes, motion bursts) are cross-correlated with the audio onsets
/// over ±<see cref="AvSyncOptions.MaxLag"/> (<see cref="OffsetEstimator"/>); only windows where several
/// events agree on one clear lag count, so a static picture, silence or a steady tone say nothing;</item>
/// <item>timestamps: the audio timestamps drifting from the audio's own sample clock while both tracks run
/// continuously (<see cref="TimestampSkew"/>). Timestamps alone are weak evidence: a shifted track and lost
/// media look the same in them, containers round them, a burst of garbage makes them jump. So they count,
/// with confidence 0.5, only where content is silent, only as a drift built up inside one stretch of at
/// least <see cref="AvSyncOptions.TimestampSpan"/> seconds in which neither track jumped and no packet was
/// corrupt or failed to decode, and only as the drift since the last content estimate of that stretch
/// (added to it) or, without one, since the stretch began.</item>
/// </list>
/// Audio and video arrive interleaved in demux order; the estimate for a window runs once both
/// tracks have passed its end plus the largest lag.
/// </summary>
public sealed class AvSyncDetector : IVideoDetector, IAudioDetector, IMediaEventDetector
{
    public const string KindName = "av.sync";
    private const double TimestampConfidence = 0.5;
    private const double TimestampMoved = 0.010;    // seconds of drift that make timestamps evidence
    private const double InterleaveMargin = 20;     // seconds one track may run ahead of the other in the grid

    private readonly AvSyncOptions _options;
    private readonly EnvelopeGrid _videoGrid, _audioGrid;
    private readonly VideoChangeEnvelope _video;
    private readonly AudioOnsetEnvelope _audio;
    private readonly OffsetEstimator _estimator;
    private readonly TimestampSkew _timestamps = new();
    private readonly OffsetIntervals _intervals;
    private double _firstVideo = double.NaN, _firstAudio = double.NaN;
    private double _nextEstimate = double.NaN;
    private double _anchorOffset, _anchorSkew;
    private int _anchorStretch = -1;                // the timestamp stretch the content anchor belongs to

    public AvSyncDetector(AvSyncOptions options, IDefectSink sink)
    {
        _options = options;
        var history = options.Window + 2 * options.MaxLag + InterleaveMargin;
        _videoGrid = new EnvelopeGrid(history);
        _audioGrid = new EnvelopeGrid(history);
        _video = new VideoChangeEnvelope(_videoGrid);
        _audio = new AudioOnsetEnvelope(_audioGrid);
        _estimator = new OffsetEstimator(options.Window, options.MaxLag);
        _intervals = new OffsetIntervals(options, sink) { ExtraDetails = TimestampDetails };
    }

    public string Kind => KindName;

    /// <summary>Called with every window that gave a trustworthy content estimate (tools, tests).</summary>
    public Action<SyncEstimate>? EstimateObserved { get; set; }

    /// <summary>Timestamp-level drift in the current continuous stretch (seconds, &gt; 0 audio late).</summary>
    public double TimestampSkewSeconds => _timestamps.Skew;

    public void Process(VideoFrame frame)
    {
        if (double.IsNaN(_firstVideo)) _firstVideo = frame.Pts;
        _timestamps.Video(frame.Pts, frame.Duration);
        _video.Process(frame);
        Advance(final: false);
    }

    public void Process(AudioBlock block)
    {
        if (double.IsNaN(_firstAudio)) _firstAudio = block.Pts;
        _timestamps.Audio(block.Pts, block.SampleCount, block.SampleRate);
        _audio.Process(block);
        Advance(final: false);
    }

    /// <summary>
    /// Estimates wait for both tracks; when one has stopped, media time passing without evidence is
    /// what ends an interval (<see cref="AvSyncOptions.MaxGap"/> after its last evidence).
    /// </summary>
    public void Tick(double now)
    {
        if (now - _options.MaxLag > Math.Min(_video.Reached, _audio.Reached)) _intervals.NoEvidence(now - _options.MaxLag);
    }

    /// <summary>
    /// Across a splice or a new codec the alignment of the tracks is new: the envelopes cannot straddle it.
    /// A hole keeps the alignment (nothing happened there); time stepping back further than the largest
    /// lag would put events out of order.
    /// </summary>
    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Cause is DiscontinuityCause.Jump or DiscontinuityCause.CodecChange
            || (discontinuity.Cause == DiscontinuityCause.Overlap && -discontinuity.Missing > _options.MaxLag))
            Discontinuity();
        else
            _timestamps.Break(discontinuity.Resume); // a hole or overlap: timestamps are no longer continuous
    }

    /// <summary>Corrupt packets and decode errors end a stretch of trustworthy timestamps too.</summary>
    public void Process(MediaEvent mediaEvent)
    {
        if (mediaEvent.Kind is MediaEventKind.PacketCorrupt or MediaEventKind.DecodeError or MediaEventKind.CodecChange
            or MediaEventKind.TimestampJump or MediaEventKind.FrameGap)
            _timestamps.Break(mediaEvent.Pts);
    }

    public void Flush(double endOfInput, string closedBy)
    {
        Advance(final: true);
        _intervals.Close(endOfInput, closedBy);
    }

    /// <summary>Runs every estimate whose window both tracks have now covered.</summary>
    private void Advance(bool final)
    {
        if (double.IsNaN(_firstVideo) || double.IsNaN(_firstAudio)) return;
        var ready = Math.Min(_video.Reached, _audio.Reached);
        if (!final) ready -= _options.MaxLag; // audio may still hold onsets for video up to max lag back
        if (double.IsNaN(_nextEstimate))
        {
            // the first window may be partial, but at least half full
            var origin = Math.Max(_firstVideo, _firstAudio);
            _nextEstimate = origin + Math.Min(_options.Window, Math.Max(_options.Window / 2, _options.MinDuration));
        }
        // after a forward jump, windows that can hold nothing are skipped rather than computed
        if (ready - _nextEstimate > _options.Window + _options.MaxLag)
            _nextEstimate += Math.Floor((ready - _nextEstimate - _options.Window) / _options.Step) * _options.Step;
        while (_nextEstimate <= ready)
        {
            EstimateAt(_nextEstimate);
            _nextEstimate += _options.Step;
        }
    }

    private void EstimateAt(double time)
    {
        var estimate = _estimator.Estimate(_videoGrid, _audioGrid, EnvelopeGrid.CellOf(time), _options.MinEvents, _options.MinPeakRatio);
        if (estimate is { } e)
        {
            EstimateObserved?.Invoke(e);
            _anchorOffset = e.Offset;
            _anchorSkew = _timestamps.Skew;
            _anchorStretch = _timestamps.Stretch;
            _intervals.Measure(e.Offset, e.Confidence, e.FirstEvent, e.LastEvent, e.PairedEvents);
            return;
        }
        // content is silent: a drift inside one long continuous stretch is the only timestamp evidence
        var anchored = _anchorStretch == _timestamps.Stretch;
        var moved = _timestamps.Skew - (anchored ? _anchorSkew : 0);
        if (_timestamps.ContinuousSeconds >= _options.TimestampSpan && Math.Abs(moved) >= TimestampMoved)
            _intervals.Measure((anchored ? _anchorOffset : 0) + moved, TimestampConfidence, time - _options.Step, time, 0);
        else
            _intervals.NoEvidence(time);
    }

    /// <summary>A break in the timeline: nothing measured before it is compared with what follows.</summary>
    private void Discontinuity()
    {
        _intervals.Close(Math.Max(_video.Reached, _audio.Reached));
        _videoGrid.Reset();
        _audioGrid.Reset();
        _video.Reset();
        _audio.Reset();
        _timestamps.Rebase();
        _firstVideo = _firstAudio = double.NaN;
        _nextEstimate = double.NaN;
        _anchorOffset = 0;
        _anchorSkew = 0;
        _anchorStretch = -1;
    }

    private IEnumerable<KeyValuePair<string, double>> TimestampDetails()
    {
        if (Math.Abs(_timestamps.Skew) >= 0.001)
            yield return new("pts_skew_ms", Math.Round(_timestamps.Skew * 1000));
        var start = _timestamps.StartOffset;
        if (!double.IsNaN(start) && Math.Abs(start) >= 0.001)
            yield return new("pts_start_offset_ms", Math.Round(start * 1000));
    }
}
