namespace Vigil.Tools.Corpus;

/// <summary>What a corpus clip is for: it carries a defect of one kind, or it is a trap that must raise none.</summary>
public enum ClipRole { Corruption, Blockiness, Sync, Trap }

/// <summary>
/// One labelled clip. Ground truth is known by construction: <see cref="BlockyStretches"/> are the
/// seconds encoded starved; <see cref="DamagedFrames"/> are the presentation times (ms) of frames
/// whose luma differs from the clean decode by more than the PSNR threshold; <see cref="SyncOffsetMs"/> is
/// the audio offset built into the clip (&gt; 0 audio late), out of sync from <see cref="SyncFrom"/> on when it is
/// outside the tolerance.
/// </summary>
public sealed record CorpusClip(
    string Name,
    string Path,
    ClipRole Role,
    string Description,
    IReadOnlyList<(double Start, double End)> BlockyStretches,
    IReadOnlySet<long> DamagedFrames)
{
    /// <summary>Whether the frame at <paramref name="pts"/> is blocky by construction.</summary>
    public bool IsBlocky(double pts) => BlockyStretches.Any(s => pts >= s.Start - 1e-6 && pts < s.End - 1e-6);

    /// <summary>Whether the frame at <paramref name="pts"/> decodes visibly different from the clean stream.</summary>
    public bool IsDamaged(double pts) => DamagedFrames.Contains(Key(pts));

    /// <summary>The audio offset the clip was made with, ms (&gt; 0: audio late); null for clips without one.</summary>
    public int? SyncOffsetMs { get; init; }

    /// <summary>
    /// The kinds this clip is scored for; null: every kind. A garbage burst is a trap for av.sync, but the
    /// damage it does to the picture is real and unmeasured, so it is not scored for video kinds.
    /// </summary>
    public IReadOnlySet<string>? OnlyKinds { get; init; }

    /// <summary>Whether the clip counts for <paramref name="kind"/>.</summary>
    public bool Scores(string kind) => OnlyKinds is null || OnlyKinds.Contains(kind);

    /// <summary>Media time of the first sync event (flash and beep): the offset shows from there.</summary>
    public double SyncFrom { get; init; }

    /// <summary>Whether the frame at <paramref name="pts"/> is out of sync by construction.</summary>
    public bool IsOutOfSync(double pts) => SyncOffsetMs is { } offset && SyncSignals.OutOfTolerance(offset) && pts >= SyncFrom - 1e-6;

    public static long Key(double pts) => (long)Math.Round(pts * 1000);
}
