namespace Vigil.Media;

/// <summary>What an opened input holds, as FFmpeg probed it (for a multiplex decoded per programme: what one programme holds).</summary>
public sealed record MediaInfo(string Format, double? Duration, VideoInfo? Video, AudioInfo? Audio)
{
    /// <summary>The programme (service id) of a multiplex this describes; 0 for an input decoded as one.</summary>
    public int Program { get; init; }

    /// <summary>The programme's service name (DVB SDT), when the multiplex carries one.</summary>
    public string? ServiceName { get; init; }
}

/// <summary>The analysed video stream: source size, the reduced analysis size detectors see, and rate.</summary>
public sealed record VideoInfo(int StreamIndex, string Codec, int Width, int Height, int AnalysisWidth, int AnalysisHeight, double Fps);

/// <summary>The analysed audio stream.</summary>
public sealed record AudioInfo(int StreamIndex, string Codec, int SampleRate, int Channels);
