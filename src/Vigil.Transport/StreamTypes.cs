namespace Vigil.Transport;

/// <summary>Video, audio or other, from a PMT's stream_type and (for private PES, 0x06) its descriptors.</summary>
internal static class StreamTypes
{
    public static StreamKind Classify(int streamType, ReadOnlySpan<byte> descriptors) => streamType switch
    {
        // MPEG-1/2 video, MPEG-4 visual, H.264 (and SVC, MVC), HEVC, VVC, AVS, Dirac, VC-1
        0x01 or 0x02 or 0x10 or 0x1B or 0x1F or 0x20 or 0x24 or 0x33 or 0x42 or 0xD1 or 0xEA => StreamKind.Video,
        // MPEG-1/2 audio, AAC (ADTS, LATM, raw), ATSC AC-3 and E-AC-3
        0x03 or 0x04 or 0x0F or 0x11 or 0x1C or 0x81 or 0x87 => StreamKind.Audio,
        0x06 => FromDescriptors(descriptors),
        _ => StreamKind.Other,
    };

    private static StreamKind FromDescriptors(ReadOnlySpan<byte> descriptors)
    {
        for (var d = 0; d + 2 <= descriptors.Length; d += 2 + descriptors[d + 1])
        {
            var tag = descriptors[d];
            var body = descriptors.Slice(d + 2, Math.Min(descriptors[d + 1], descriptors.Length - d - 2));
            switch (tag)
            {
                case 0x6A or 0x7A or 0x7B or 0x7C: return StreamKind.Audio; // DVB AC-3, E-AC-3, DTS, AAC
                case 0x7F when body.Length > 0 && body[0] is 0x15 or 0x0E or 0x0F: return StreamKind.Audio; // AC-4, DTS-HD, DTS-UHD
                case 0x56 or 0x59: return StreamKind.Other; // teletext, subtitles
                case 0x05 when body.Length >= 4:
                    var id = System.Text.Encoding.ASCII.GetString(body[..4]);
                    if (id is "AC-3" or "EAC3" or "Opus" or "DTS1" or "DTS2" or "DTS3" or "BSSD" or "mlpa") return StreamKind.Audio;
                    if (id is "HEVC" or "VC-1" or "AV01") return StreamKind.Video;
                    break;
            }
        }
        return StreamKind.Other;
    }
}
