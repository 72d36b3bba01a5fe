namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="BlackDetector"/>; defaults from the event contract. Each is declared once, with its help and range.</summary>
public sealed record BlackOptions : IDetectorOptions
{
    [Option("Seconds of black before it is a defect", Min = 0, Max = 3600)]
    public double MinDuration { get; init; } = 1.0;

    [Option("A pixel is dark at or below this fraction of the nominal luma range", Min = 0, Max = 1)]
    public double PixelThreshold { get; init; } = 0.10;

    [Option("Share of a region's pixels that must be dark", Min = 0, Max = 1)]
    public double PictureThreshold { get; init; } = 0.98;

    [Option("Luma standard deviation (8-bit code values) above which a dark region shows detail, so is not black", Min = 0, Max = 255)]
    public double MaxDetail { get; init; } = 3.0;

    [Option("Share of the picture, away from its centre, that may show something (a logo, a bug) on black", Min = 0, Max = 1)]
    public double LogoArea { get; init; } = 0.10;

    [Option("Regions to ignore, e.g. a channel bug")]
    public RegionMask Mask { get; init; } = RegionMask.None;
}
