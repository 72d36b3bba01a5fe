namespace Vigil.Media;

/// <summary>
/// Where a pipeline reads its media items from: the converter (<see cref="MediaSource"/>), or anything that
/// replays the converter's items in the same order (the hand-off benchmark's object-storage reader).
/// </summary>
public interface IMediaReader
{
    /// <summary>What the input holds (streams, sizes, rates).</summary>
    MediaInfo Info { get; }

    /// <summary>
    /// The programmes decoded (see <see cref="MediaSource.Programs"/>); after a <see cref="MediaEventKind.CodecChange"/>
    /// event, what they carry now. A reader that replays items has the one it started with.
    /// </summary>
    IReadOnlyList<MediaInfo> Programs => [Info];

    /// <summary>
    /// The next item, or kind <see cref="MediaItemKind.End"/> at the end; the caller owns (and releases) any frame
    /// or block returned. Throws <see cref="MediaException"/> when the input fails.
    /// </summary>
    MediaItem Read();

    /// <summary>Makes a blocked <see cref="Read"/> return (with <see cref="OperationCanceledException"/>). Thread-safe.</summary>
    void Interrupt();

    /// <summary>
    /// The transport analyser of the bytes read (ETSI TR 101 290 on an MPEG-TS input; see <see cref="MediaSource.Transport"/>),
    /// or null where there is none: a replay of items carries no transport.
    /// </summary>
    Vigil.Transport.TransportAnalyzer? Transport => null;

    /// <summary>
    /// An analysis that stops before the input's end: what the transport analyser still has to say, as items
    /// (see <see cref="MediaSource.FinishTransport"/>); nothing where there is no transport.
    /// </summary>
    IEnumerable<MediaItem> FinishTransport() => [];

    /// <summary>
    /// <see cref="System.Diagnostics.Stopwatch"/> ticks of the last picture or audio block handed out (0 before any, or
    /// where it is not known): when media last arrived, whatever the analysis behind it is doing. Thread-safe.
    /// </summary>
    long LastMediaTicks => 0;
}
