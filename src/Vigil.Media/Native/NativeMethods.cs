using System.Runtime.InteropServices;

namespace Vigil.Media.Native;

// Mirrors native/vigil_media.h field for field; every struct is blittable.

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VgOpenOptions
{
    public int DecodeThreads;
    public int AnalysisMaxWidth;
    public double OpenTimeoutSeconds;
    public double IoTimeoutSeconds;
    public int WantVideo;
    public int WantAudio;
    public int WantGridStats;
    public delegate* unmanaged<nint, byte*, int, int, long, void> Tap;
    public nint TapOpaque;
    public int ProgramCount;
    public int* Programs;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VgGridStats
{
    public int BlockCols, BlockRows;
    public ushort* EdgeLeft, EdgeTop, InnerLeft, InnerTop, Sum, Activity;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VgGridScratch
{
    public ushort* Maps;
    public void* Accumulators;
    public int Capacity, AccumulatorCapacity;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VgInfo
{
    public int VideoStream;
    public int Width, Height;
    public int AnalysisWidth, AnalysisHeight;
    public double Fps;
    public fixed byte VideoCodec[32];
    public int AudioStream;
    public int SampleRate, Channels;
    public fixed byte AudioCodec[32];
    public double Duration;
    public fixed byte FormatName[32];
    public int VideoId, AudioId;
    public int Program;
    public int ProgramCount;
}

internal enum VgItemKind { End = 0, Video = 1, Audio = 2, Event = 3 }

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VgItem
{
    public VgItemKind Kind;
    public int StreamIndex;
    public int Program;
    public double Pts;
    public double Duration;
    public byte* Luma;
    public int LumaStride;
    public int Width, Height;
    public int SourceWidth, SourceHeight;
    public int PictType;
    public int KeyFrame;
    public int RecoveryPoint;
    public int DecodeErrorFlags;
    public int Corrupt;
    public int ConcealedReference;
    public float ConcealedArea;
    public int FullRange;
    public InputEnd InputEnd;
    public VgGridStats* Grid;
    public float* Samples;
    public int Channels, SampleCount, SampleRate;
    public int* ChannelRoles;
    public int EventCode;
}

internal static partial class NativeMethods
{
    private const string Library = "vigil_media";

    public const int ErrFailed = -1, ErrStalled = -2, ErrInterrupted = -3;

    [LibraryImport(Library, EntryPoint = "vg_open", StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int Open(string url, in VgOpenOptions options, out nint ctx, byte* error, int errorSize);

    [LibraryImport(Library, EntryPoint = "vg_get_info")]
    public static partial int GetInfo(nint ctx, out VgInfo info);

    [LibraryImport(Library, EntryPoint = "vg_read")]
    public static partial int Read(nint ctx, out VgItem item);

    [LibraryImport(Library, EntryPoint = "vg_last_error")]
    public static partial nint LastError(nint ctx);

    [LibraryImport(Library, EntryPoint = "vg_interrupt")]
    public static partial void Interrupt(nint ctx);

    [LibraryImport(Library, EntryPoint = "vg_band_reduced_pictures")]
    public static partial long BandReducedPictures(nint ctx);

    [LibraryImport(Library, EntryPoint = "vg_tap_detach")]
    public static partial void TapDetach(nint ctx);

    [LibraryImport(Library, EntryPoint = "vg_start_seconds")]
    public static partial double StartSeconds(nint ctx, int program);

    [LibraryImport(Library, EntryPoint = "vg_get_program_info")]
    public static partial int GetProgramInfo(nint ctx, int index, out VgInfo info);

    public const int AllPrograms = -1;

    [LibraryImport(Library, EntryPoint = "vg_close")]
    public static partial void Close(nint ctx);

    [LibraryImport(Library, EntryPoint = "vg_encode_jpeg_gray")]
    public static unsafe partial int EncodeJpegGray(byte* pixels, int stride, int width, int height, byte* output, int outputSize);

    [LibraryImport(Library, EntryPoint = "vg_grid_measure")]
    public static unsafe partial int GridMeasure(byte* luma, int stride, int width, int height, ref VgGridScratch scratch, out VgGridStats stats);

    [LibraryImport(Library, EntryPoint = "vg_grid_free")]
    public static partial void GridFree(ref VgGridScratch scratch);

    [LibraryImport(Library, EntryPoint = "vg_version")]
    public static partial nint Version();

    public static unsafe string FixedString(byte* chars, int capacity)
    {
        var span = new ReadOnlySpan<byte>(chars, capacity);
        var end = span.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }
}
