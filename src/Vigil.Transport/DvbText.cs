using System.Text;

namespace Vigil.Transport;

/// <summary>
/// DVB SI text (ETSI EN 300 468, annex A) to a string. The first byte may select a character table:
/// UTF-8 (0x15) and UCS-2 (0x11) are decoded as such; the ISO/IEC 8859 tables are read as Latin-1, and
/// the default ISO/IEC 6937 table as Latin-1 without its non-spacing diacritics (0xC1–0xCF, which
/// precede the letter they accent): exact for the ASCII range that service names mostly use. DVB's
/// control codes (0x80–0x9F: emphasis, line breaks) are dropped.
/// </summary>
internal static class DvbText
{
    public static string Decode(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty) return "";
        string s;
        switch (text[0])
        {
            case 0x15: s = Encoding.UTF8.GetString(text[1..]); break;
            case 0x11: s = Encoding.BigEndianUnicode.GetString(text[1..]); break;
            case 0x10: s = Encoding.Latin1.GetString(text.Length > 3 ? text[3..] : []); break;
            case < 0x20: s = Encoding.Latin1.GetString(text[1..]); break;
            default:
                var kept = new StringBuilder(text.Length);
                foreach (var b in text)
                    if (b is not (>= 0xC1 and <= 0xCF)) kept.Append((char)b);
                s = kept.ToString();
                break;
        }
        var clean = new StringBuilder(s.Length);
        foreach (var c in s)
            if (!char.IsControl(c)) clean.Append(c);
        return clean.ToString().Trim();
    }
}
