using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vigil.Events;

/// <summary>
/// Writes events in the v1 contract (EVENTS.md): one JSON object per line. Times and confidences are
/// rounded to 3 decimals and always carry a decimal point (<c>6.0</c>, <c>9.04</c>), as the contract shows.
/// </summary>
public static class ContractJson
{
    public static string Defect(Defect defect) => Write(w =>
    {
        w.WriteString("event", defect.End is null ? "defect_start" : "defect");
        w.WriteString("kind", defect.Kind);
        Number(w, "start", defect.Start);
        if (defect.End is { } end) Number(w, "end", end);
        Number(w, "confidence", defect.Confidence);
        if (defect.Details is { Count: > 0 } || defect.TextDetails is { Count: > 0 })
        {
            w.WriteStartObject("details");
            foreach (var (key, value) in defect.Details ?? EmptyNumbers)
            {
                // counts and indices (channel, packets) read as integers
                if (value == Math.Floor(value) && Math.Abs(value) < 1e15) w.WriteNumber(key, (long)value);
                else Number(w, key, value, "0.0###");
            }
            foreach (var (key, value) in defect.TextDetails ?? EmptyText) w.WriteString(key, value);
            w.WriteEndObject();
        }
        if (defect.Stream is { } stream) w.WriteNumber("stream", stream);
        if (defect.Program is { } program) w.WriteNumber("program", program);
    });

    /// <summary>The summary line, always the last line of <c>analyze --json</c>.</summary>
    public static string Summary(InputSummary summary) => Write(w =>
    {
        w.WriteString("event", "summary");
        Fields(w, summary);
        Number(w, "wall_seconds", summary.WallSeconds);
    });

    /// <summary>The summary's fields, also those of each entry of <c>programs</c>.</summary>
    private static void Fields(Utf8JsonWriter w, InputSummary summary)
    {
        Number(w, "duration", summary.Duration);
        if (summary.Video is { } v)
        {
            w.WriteStartObject("video");
            w.WriteString("codec", v.Codec);
            w.WriteNumber("width", v.Width);
            w.WriteNumber("height", v.Height);
            Number(w, "fps", v.Fps);
            w.WriteNumber("frames", v.Frames);
            w.WriteEndObject();
        }
        if (summary.Audio is { } a)
        {
            w.WriteStartObject("audio");
            w.WriteString("codec", a.Codec);
            w.WriteNumber("sample_rate", a.SampleRate);
            w.WriteNumber("channels", a.Channels);
            w.WriteEndObject();
        }
        if (summary.Loudness is { } l)
        {
            w.WriteStartObject("loudness");
            Number(w, "integrated_lufs", l.IntegratedLufs, "0.0#");
            Number(w, "lra_lu", l.LoudnessRangeLu, "0.0#");
            Number(w, "true_peak_dbtp", l.TruePeakDbtp, "0.0#");
            w.WriteEndObject();
        }
        w.WriteNumber("defects", summary.Defects);
        if (summary.Transport is { } transport)
        {
            w.WriteStartObject("transport");
            foreach (var (indicator, count) in transport) w.WriteNumber(indicator, count);
            w.WriteEndObject();
        }
        if (summary.Programs is { } programs)
        {
            w.WriteStartArray("programs");
            foreach (var p in programs)
            {
                w.WriteStartObject();
                w.WriteNumber("program", p.Program);
                if (p.ServiceName is { } name) w.WriteString("service_name", name);
                Fields(w, p.Summary);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (summary.CorruptPackets > 0) w.WriteNumber("corrupt_packets", summary.CorruptPackets);
        if (summary.DecodeErrors > 0) w.WriteNumber("decode_errors", summary.DecodeErrors);
        if (summary.Discontinuities > 0) w.WriteNumber("discontinuities", summary.Discontinuities);
    }

    private static readonly IReadOnlyDictionary<string, double> EmptyNumbers = new Dictionary<string, double>();
    private static readonly IReadOnlyDictionary<string, string> EmptyText = new Dictionary<string, string>();

    private static void Number(Utf8JsonWriter w, string name, double value, string format = "0.0##")
    {
        w.WritePropertyName(name);
        if (double.IsFinite(value)) w.WriteRawValue(value.ToString(format, CultureInfo.InvariantCulture), skipInputValidation: true);
        else w.WriteNullValue(); // -inf LUFS of pure silence has no JSON number
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
