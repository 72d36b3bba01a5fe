using Vigil.Detectors;

namespace Vigil.Cluster.Placement;

/// <summary>One detector group of a stream: the role that runs it and its detector kinds.</summary>
/// <param name="ReportsStall">The stream's lead group also reports <c>stream.stall</c> and runs the bitstream detectors.</param>
public sealed record DetectorGroup(string Role, IReadOnlyList<string> Kinds, bool ReportsStall);

/// <summary>
/// How a stream's detectors split over the fleet's roles. A role is a detector subset (<c>video</c>,
/// <c>audio+av.sync</c>); each selected detector goes to the first known role (in ordinal order) that
/// contains it, so no detector runs twice. The lead group (the one holding the stream's first detector in
/// catalog order, video before audio) also takes <c>stream.stall</c> and the bitstream detectors (they need
/// no decoding of their own) unless a role names them. Kinds no role contains are unassigned.
/// </summary>
public static class DetectorGroups
{
    public const string StallKind = "stream.stall";

    /// <summary>A role as written in options (<c>audio, av.sync</c>) in its canonical form (<c>audio+av.sync</c>); empty means all.</summary>
    public static string Canonical(string? role)
    {
        if (string.IsNullOrWhiteSpace(role)) return "all";
        var parts = role.Split([',', '+'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.ToLowerInvariant()).Distinct().ToList();
        if (parts.Count == 0 || parts.Contains("all")) return "all";
        DetectorCatalog.Select(string.Join(',', parts)); // throws on an unknown name
        return string.Join('+', parts);
    }

    /// <summary>The detector kinds of a canonical role.</summary>
    public static IReadOnlyList<string> KindsOf(string role) =>
        (role == "all" ? DetectorCatalog.All : DetectorCatalog.Select(role.Replace('+', ','))).Select(d => d.Kind).ToList();

    /// <summary>Splits <paramref name="selected"/> (a stream's detectors) over <paramref name="roles"/>; the second list is kinds no role can run.</summary>
    public static (IReadOnlyList<DetectorGroup> Groups, IReadOnlyList<string> Uncovered) Split(
        IReadOnlyList<DetectorDescriptor> selected, IEnumerable<string> roles)
    {
        var ordered = roles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(r => (Role: r, Kinds: KindsOf(r).ToHashSet())).ToList();
        var byRole = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var uncovered = new List<string>();
        var bitstream = new List<string>();
        string? lead = null;
        foreach (var detector in DetectorCatalog.All.Where(selected.Contains))
        {
            var owner = ordered.FirstOrDefault(r => r.Kinds.Contains(detector.Kind)).Role;
            var isBitstream = !detector.NeedsVideo && !detector.NeedsAudio;
            if (owner is null)
            {
                if (isBitstream) bitstream.Add(detector.Kind);
                else uncovered.Add(detector.Kind);
                continue;
            }
            if (!byRole.TryGetValue(owner, out var kinds)) byRole[owner] = kinds = [];
            kinds.Add(detector.Kind);
            if (!isBitstream) lead ??= owner;
        }
        lead ??= byRole.Keys.FirstOrDefault() ?? ordered.FirstOrDefault().Role;
        if (lead is null) return ([], uncovered.Concat(bitstream).ToList());
        if (!byRole.TryGetValue(lead, out var leadKinds)) byRole[lead] = leadKinds = [];
        leadKinds.AddRange(bitstream);
        var groups = byRole.OrderBy(kv => ordered.FindIndex(r => r.Role == kv.Key))
            .Select(kv => new DetectorGroup(kv.Key, kv.Value, kv.Key == lead)).ToList();
        return (groups, uncovered);
    }
}
