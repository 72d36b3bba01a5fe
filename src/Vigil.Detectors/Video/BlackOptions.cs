namespace Vigil.Detectors.Video;

/// <summary>Options of <see cref="BlackDetector"/>; defaults from the event contract.</summary>
public sealed record BlackOptions : IDetectorOptions
{
    /// <summary>Seconds of black before it is a defect.</summary>
    public double MinDuration { get; init; } = 1.0;
    /// <summary>A pixel is dark at or below this fraction of the nominal luma range.</summary>
    public double PixelThreshold { get; init; } = 0.10;
    /// <summary>Share of a region's pixels that must be dark.</summary>
    public double PictureThreshold { get; init; } = 0.98;
    /// <summary>Luma standard deviation (8-bit code values) above which a dark region shows detail, so is not black.</summary>
    public double MaxDetail { get; init; } = 3.0;
    /// <summary>Share of the picture, away from its centre, that may show something (a logo, a bug) on black.</summary>
    public double LogoArea { get; init; } = 0.10;
    /// <summary>Regions to ignore, e.g. a channel bug: <c>x,y,w,h</c> fractions.</summary>
    public RegionMask Mask { get; init; } = RegionMask.None;

    public void Validate()
    {
        Guard.Between(MinDuration, 0, 3600, "video.black.min_duration");
        Guard.Between(PixelThreshold, 0, 1, "video.black.pixel_threshold");
        Guard.Between(PictureThreshold, 0, 1, "video.black.picture_threshold");
        Guard.Between(MaxDetail, 0, 255, "video.black.max_detail");
        Guard.Between(LogoArea, 0, 1, "video.black.logo_area");
    }
}
