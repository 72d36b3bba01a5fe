using Vigil.Detectors;
using Vigil.Service.Store;

namespace Vigil.Service.Live;

/// <summary>Turns a stream's definition (detector subset, thresholds, masks) into what the catalog builds detectors from.</summary>
public static class DetectorSetup
{
    /// <summary>
    /// The selected detectors and their bound settings. Masks go to every selected detector with a
    /// <c>mask</c> option unless a threshold sets that detector's mask itself. Throws
    /// <see cref="ArgumentException"/> naming the bad detector, option or value.
    /// </summary>
    public static (IReadOnlyList<DetectorDescriptor> Selected, DetectorSettings Settings) Build(StreamConfig stream)
    {
        var selected = DetectorCatalog.Select(stream.Detectors is { Count: > 0 } d ? string.Join(',', d) : null);
        var assignments = stream.Settings.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        if (stream.Masks.Count > 0)
        {
            foreach (var mask in stream.Masks)
            {
                try
                {
                    RegionMask.Parse(mask);
                }
                catch (FormatException e)
                {
                    throw new ArgumentException(e.Message);
                }
            }
            var joined = string.Join(';', stream.Masks);
            foreach (var descriptor in selected)
            {
                var key = descriptor.Kind + ".mask";
                if (descriptor.Options.Any(o => o.Name == "mask") && !stream.Settings.Keys.Any(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)))
                    assignments.Add($"{key}={joined}");
            }
        }
        var settings = DetectorSettings.Parse(assignments);
        DetectorCatalog.Validate(settings);
        return (selected, settings);
    }
}
