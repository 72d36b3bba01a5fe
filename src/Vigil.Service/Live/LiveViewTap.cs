using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Service.Live;

/// <summary>
/// Feeds a stream's live view (<see cref="LivePicture"/> for thumbnails, <see cref="LiveMeters"/> for the
/// audio meters) from its analysis: each picture and audio block, on the analysis thread, with the
/// block's media time mapped to the stream's clock (before the progress tap advances it).
/// </summary>
internal sealed class LiveViewTap(LivePicture picture, LiveMeters meters, StreamTimeline timeline) : IAnalysisObserver
{
    public void BeforeVideo(VideoFrame frame) => picture.Offer(frame);

    public void BeforeAudio(AudioBlock block) => meters.Offer(block, timeline.Map(block.Pts));

    public void OnEnd(in AnalysisEnd end) => picture.Clear();
}
