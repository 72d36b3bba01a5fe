namespace Vigil.Tools.Corpus;

/// <summary>What a corpus clip is for: it carries a defect of one kind, or it is a trap that must raise none.</summary>
public enum ClipRole { Corruption, Blockiness, Trap }

/// <summary>
/// One labelled clip. Ground truth is known by construction: <see cref="BlockyStretches"/> are the
/// seconds encoded starved; <see cref="DamagedFrames"/> are the presentation times (ms) of frames
/// whose luma differs from the clean decode by more than the PSNR threshold.
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

    public static long Key(double pts) => (long)Math.Round(pts * 1000);
}
