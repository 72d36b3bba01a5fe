namespace Vigil.Media;

/// <summary>What an opened input holds, as FFmpeg probed it.</summary>
public sealed record MediaInfo(string Format, double? Duration, VideoInfo? Video, AudioInfo? Audio);

/// <summary>The analysed video stream: source size, the reduced analysis size detectors see, and rate.</summary>
public sealed record VideoInfo(int StreamIndex, string Codec, int Width, int Height, int AnalysisWidth, int AnalysisHeight, double Fps);

/// <summary>The analysed audio stream.</summary>
public sealed record AudioInfo(int StreamIndex, string Codec, int SampleRate, int Channels);
