using Vigil.Media.Native;

namespace Vigil.Media;

/// <summary>Encodes analysis luma as a JPEG through FFmpeg's mjpeg encoder (defect snapshots).</summary>
public static class JpegEncoder
{
    public static unsafe byte[] EncodeGray(ReadOnlySpan<byte> luma, int width, int height)
    {
        var buffer = new byte[width * height + 4096];
        fixed (byte* src = luma)
        fixed (byte* dst = buffer)
        {
            var size = NativeMethods.EncodeJpegGray(src, width, width, height, dst, buffer.Length);
            if (size < 0) throw new MediaException("JPEG encoding failed");
            return buffer.AsSpan(0, size).ToArray();
        }
    }
}
