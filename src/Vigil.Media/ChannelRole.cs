namespace Vigil.Media;

/// <summary>
/// What a channel of a layout carries, in FFmpeg's numbering (<c>enum AVChannel</c>), as the shim reports it
/// per channel. Roles FFmpeg knows but this list does not name keep their number.
/// </summary>
public enum ChannelRole
{
    Unknown = -1,
    FrontLeft = 0,
    FrontRight = 1,
    FrontCenter = 2,
    LowFrequency = 3,
    BackLeft = 4,
    BackRight = 5,
    FrontLeftOfCenter = 6,
    FrontRightOfCenter = 7,
    BackCenter = 8,
    SideLeft = 9,
    SideRight = 10,
    TopCenter = 11,
    TopFrontLeft = 12,
    TopFrontCenter = 13,
    TopFrontRight = 14,
    TopBackLeft = 15,
    TopBackCenter = 16,
    TopBackRight = 17,
    StereoLeft = 29,
    StereoRight = 30,
    WideLeft = 31,
    WideRight = 32,
    SurroundDirectLeft = 33,
    SurroundDirectRight = 34,
    LowFrequency2 = 35,
    TopSideLeft = 36,
    TopSideRight = 37,
    BottomFrontCenter = 38,
    BottomFrontLeft = 39,
    BottomFrontRight = 40,
}

/// <summary>Channel layouts by role.</summary>
public static class ChannelLayouts
{
    /// <summary>
    /// FFmpeg's default layout for <paramref name="channels"/> channels (<c>av_channel_layout_default</c> in FFmpeg 5.1:
    /// mono, stereo, 2.1, 4.0, 5.0, 5.1, 6.1, 7.1); unknown roles beyond 8.
    /// </summary>
    public static ChannelRole[] Default(int channels) => channels switch
    {
        1 => [ChannelRole.FrontCenter],
        2 => [ChannelRole.FrontLeft, ChannelRole.FrontRight],
        3 => [ChannelRole.FrontLeft, ChannelRole.FrontRight, ChannelRole.LowFrequency],
        4 => [ChannelRole.FrontLeft, ChannelRole.FrontRight, ChannelRole.FrontCenter, ChannelRole.BackCenter],
        5 => [ChannelRole.FrontLeft, ChannelRole.FrontRight, ChannelRole.FrontCenter, ChannelRole.BackLeft, ChannelRole.BackRight],
        6 => [ChannelRole.FrontLeft, ChannelRole.FrontRight, ChannelRole.FrontCenter, ChannelRole.LowFrequency, ChannelRole.BackLeft, ChannelRole.BackRight],
        7 => [ChannelRole.FrontLeft, ChannelRole.FrontRight, ChannelRole.FrontCenter, ChannelRole.LowFrequency, ChannelRole.BackCenter, ChannelRole.SideLeft, ChannelRole.SideRight],
        8 => [ChannelRole.FrontLeft, ChannelRole.FrontRight, ChannelRole.FrontCenter, ChannelRole.LowFrequency, ChannelRole.BackLeft, ChannelRole.BackRight, ChannelRole.SideLeft, ChannelRole.SideRight],
        _ => Enumerable.Repeat(ChannelRole.Unknown, Math.Max(0, channels)).ToArray(),
    };

    /// <summary>A low-frequency effects channel (LFE, LFE 2): band-limited effects, silent through most programmes.</summary>
    public static bool IsLowFrequency(this ChannelRole role) => role is ChannelRole.LowFrequency or ChannelRole.LowFrequency2;

    /// <summary>
    /// A surround channel: behind, beside, above, below or wide of the listener (everything but the front
    /// pair and centre, their in-between channels, the stereo downmix pair and LFE).
    /// </summary>
    public static bool IsSurround(this ChannelRole role) => role is not (ChannelRole.Unknown or ChannelRole.FrontLeft or ChannelRole.FrontRight
        or ChannelRole.FrontCenter or ChannelRole.FrontLeftOfCenter or ChannelRole.FrontRightOfCenter or ChannelRole.StereoLeft
        or ChannelRole.StereoRight) && !role.IsLowFrequency() && (int)role < 0x200;

    /// <summary>A short label for reports: FL, FR, FC, LFE, BL, BR, SL, SR, ...; the number for others.</summary>
    public static string Label(this ChannelRole role) => role switch
    {
        ChannelRole.FrontLeft => "FL",
        ChannelRole.FrontRight => "FR",
        ChannelRole.FrontCenter => "FC",
        ChannelRole.LowFrequency => "LFE",
        ChannelRole.BackLeft => "BL",
        ChannelRole.BackRight => "BR",
        ChannelRole.FrontLeftOfCenter => "FLC",
        ChannelRole.FrontRightOfCenter => "FRC",
        ChannelRole.BackCenter => "BC",
        ChannelRole.SideLeft => "SL",
        ChannelRole.SideRight => "SR",
        ChannelRole.LowFrequency2 => "LFE2",
        ChannelRole.Unknown => "?",
        _ => ((int)role).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
