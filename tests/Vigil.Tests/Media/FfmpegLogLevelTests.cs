using System.Runtime.InteropServices;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Media;

/// <summary>
/// FFmpeg's log level is process-wide. The shim quiets it once (below fatal, off stderr), and opening a
/// stream must not set it again: one stream's open must not change logging for the rest of the process.
/// </summary>
public sealed class FfmpegLogLevelTests
{
    private const int AvLogFatal = 8, AvLogWarning = 24;

    [Fact]
    public async Task Open_LeavesTheProcessWideLogLevelAlone()
    {
        var clip = await TestClips.Content();
        using (MediaSource.Open(clip, new MediaOpenOptions { Audio = false })) { }
        var quiet = LogLevel.Get();
        try
        {
            LogLevel.Set(AvLogWarning);
            using (MediaSource.Open(clip, new MediaOpenOptions { Audio = false })) { }

            Assert.Equal(AvLogFatal, quiet);            // quieted once, by the first open
            Assert.Equal(AvLogWarning, LogLevel.Get()); // and not again by the second
        }
        finally
        {
            LogLevel.Set(quiet);
        }
    }

    /// <summary>av_log_get_level / av_log_set_level of the libavutil the shim is linked with (the process has it loaded).</summary>
    private static unsafe class LogLevel
    {
        private static readonly nint Library = NativeLibrary.Load("libavutil.so");
        private static readonly delegate* unmanaged<int> GetLevel = (delegate* unmanaged<int>)NativeLibrary.GetExport(Library, "av_log_get_level");
        private static readonly delegate* unmanaged<int, void> SetLevel = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(Library, "av_log_set_level");

        public static int Get() => GetLevel();

        public static void Set(int level) => SetLevel(level);
    }
}
