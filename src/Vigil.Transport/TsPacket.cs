using System.Runtime.CompilerServices;

namespace Vigil.Transport;

/// <summary>Field access on one 188-byte MPEG-TS packet (ISO/IEC 13818-1, 2.4.3).</summary>
public static class TsPacket
{
    public const int Size = 188;
    public const byte SyncByte = 0x47;
    public const int NullPid = 0x1FFF;
    public const int PatPid = 0x0000;
    public const int CatPid = 0x0001;
    public const int NitPid = 0x0010;
    public const int SdtPid = 0x0011;
    public const int EitPid = 0x0012;
    public const int TdtPid = 0x0014;
    public const int PidCount = 8192;

    /// <summary>27 MHz system clock ticks per second.</summary>
    public const double ClockHz = 27_000_000;

    /// <summary>PCR values wrap at 2^33 × 300 ticks (26.5 hours).</summary>
    public const long PcrWrap = (1L << 33) * 300;

    /// <summary>PTS values wrap at 2^33 ticks of 90 kHz.</summary>
    public const long PtsWrap = 1L << 33;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Pid(ReadOnlySpan<byte> p) => ((p[1] & 0x1F) << 8) | p[2];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TransportErrorIndicator(ReadOnlySpan<byte> p) => (p[1] & 0x80) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool PayloadUnitStart(ReadOnlySpan<byte> p) => (p[1] & 0x40) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ScramblingControl(ReadOnlySpan<byte> p) => p[3] >> 6;

    /// <summary>adaptation_field_control: 1 payload only, 2 adaptation field only, 3 both, 0 reserved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AdaptationFieldControl(ReadOnlySpan<byte> p) => (p[3] >> 4) & 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ContinuityCounter(ReadOnlySpan<byte> p) => p[3] & 0x0F;

    /// <summary>Offset of the payload (188 when there is none or the adaptation field overruns the packet).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PayloadOffset(ReadOnlySpan<byte> p)
    {
        var afc = AdaptationFieldControl(p);
        if ((afc & 1) == 0) return Size;
        var offset = (afc & 2) != 0 ? 5 + p[4] : 4;
        return offset > Size ? Size : offset;
    }

    /// <summary>The adaptation field's flags byte, or 0 when it has none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AdaptationFlags(ReadOnlySpan<byte> p) => (AdaptationFieldControl(p) & 2) != 0 && p[4] > 0 ? p[5] : 0;

    public const int DiscontinuityFlag = 0x80, PcrFlag = 0x10;

    /// <summary>The PCR in 27 MHz ticks (base × 300 + extension), or -1 when the packet has none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Pcr(ReadOnlySpan<byte> p)
    {
        if ((AdaptationFlags(p) & PcrFlag) == 0 || p[4] < 7) return -1;
        long b = ((long)p[6] << 25) | ((long)p[7] << 17) | ((long)p[8] << 9) | ((long)p[9] << 1) | ((long)p[10] >> 7);
        var ext = ((p[10] & 1) << 8) | p[11];
        return b * 300 + ext;
    }

    /// <summary>A 33-bit timestamp of a PES header (PTS or DTS) from its five bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Timestamp(ReadOnlySpan<byte> t) =>
        ((long)(t[0] & 0x0E) << 29) | ((long)t[1] << 22) | ((long)(t[2] & 0xFE) << 14) | ((long)t[3] << 7) | ((long)t[4] >> 1);

    /// <summary>The signed difference a − b of two values on a clock that wraps at <paramref name="wrap"/>, in (−wrap/2, wrap/2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long WrapDifference(long a, long b, long wrap)
    {
        var d = (a - b) % wrap;
        if (d > wrap / 2) d -= wrap;
        else if (d <= -wrap / 2) d += wrap;
        return d;
    }
}
