namespace Vigil.Tools;

/// <summary>The clip <c>vigil demo</c> analyses: made with the ffmpeg CLI, its defects known by construction.</summary>
public static class DemoClip
{
    /// <summary>What the demo clip contains, by construction.</summary>
    public const string GroundTruth =
        "0–12 s colour bars with motion and a 440 Hz tone; black 3–5 s; frozen picture 6–9 s; silence 7–10 s; right channel dead 10–12 s";

    /// <summary>Writes the clip (H.264 + AAC in MP4) to <paramref name="path"/>.</summary>
    /// <exception cref="FfmpegException">ffmpeg failed.</exception>
    public static Task GenerateAsync(string path, CancellationToken cancel = default) => FfmpegCli.RunAsync(
        "-y -v error -f lavfi -i testsrc2=size=1280x720:rate=25:duration=12 " +
        "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=12 " +
        "-f lavfi -i sine=frequency=660:sample_rate=48000:duration=12 " +
        "-filter_complex \"[0:v]drawbox=enable='between(t,3,5)':color=black:t=fill,split[s][r];[s][r]freezeframes=first=150:last=224:replace=150[v];" +
        "[1:a]volume=enable='between(t,7,10)':volume=0[l];[2:a]volume=enable='gte(t,7)':volume=0[r];" +
        "[l][r]join=inputs=2:channel_layout=stereo[a]\" " +
        $"-map [v] -map [a] -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 128k \"{path}\"", cancel);
}
