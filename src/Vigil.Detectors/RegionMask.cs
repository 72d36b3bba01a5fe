using System.Globalization;

namespace Vigil.Detectors;

/// <summary>
/// Rectangles of the picture a detector ignores (a channel bug, a clock), in fractions of width and
/// height so one mask fits every rendition: <c>x,y,w,h[;x,y,w,h…]</c>, e.g. <c>0.85,0.05,0.1,0.1</c>.
/// </summary>
public sealed record RegionMask(IReadOnlyList<(double X, double Y, double W, double H)> Regions)
{
    public static RegionMask None { get; } = new([]);

    public static RegionMask Parse(string text)
    {
        var regions = new List<(double, double, double, double)>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var n = part.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            if (n.Length != 4 || n.Any(v => v < 0 || v > 1) || n[2] <= 0 || n[3] <= 0)
                throw new FormatException($"mask '{part}': expected x,y,w,h as fractions 0..1");
            regions.Add((n[0], n[1], n[2], n[3]));
        }
        return new RegionMask(regions);
    }

    /// <summary>Whether the centre of a cell lies inside a masked region.</summary>
    public bool Covers(double x, double y)
    {
        foreach (var (rx, ry, rw, rh) in Regions)
            if (x >= rx && x < rx + rw && y >= ry && y < ry + rh) return true;
        return false;
    }

    public override string ToString() =>
        string.Join(';', Regions.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.X},{r.Y},{r.W},{r.H}")));
}
