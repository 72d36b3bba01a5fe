using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vigil.Service.Live;
using Vigil.Service.Notify;
using Vigil.Service.Segments;
using Vigil.Service.Store;
using Vigil.Transport;

namespace Vigil.Service.Ops;

/// <summary>The <c>/metrics</c> page in Prometheus text exposition format (0.0.4), written by hand: per stream and per process.</summary>
public sealed class PrometheusMetrics(IStreamControl streams, EventHub hub, IServiceStore store, WebhookDispatcher webhooks, ResultsWriter results,
    Api.LiveConnectionLimits live, IEnumerable<IOpsContributor> extras)
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public string Render()
    {
        var text = new StringBuilder(4096);
        var supervisors = streams.Local.Select(p => (p.Config, p.Status, p.Group)).ToList();

        Header(text, "vigil_stream_state", "gauge", "1 for the state the stream's pipeline is in");
        foreach (var (config, status, group) in supervisors)
            foreach (var state in Enum.GetValues<StreamState>())
                Line(text, "vigil_stream_state", Labels(config, group, ("state", state.ToString().ToLowerInvariant())), status.State == state ? 1 : 0);
        Header(text, "vigil_stream_stalled", "gauge", "1 while no media arrives (stream.stall open)");
        foreach (var (config, status, group) in supervisors) Line(text, "vigil_stream_stalled", Labels(config, group), status.Stalled ? 1 : 0);
        Header(text, "vigil_stream_fps", "gauge", "Video frames analysed per second");
        foreach (var (config, status, group) in supervisors) Line(text, "vigil_stream_fps", Labels(config, group), status.Fps);
        Header(text, "vigil_stream_frames_analysed_total", "counter", "Video frames analysed");
        foreach (var (config, status, group) in supervisors) Line(text, "vigil_stream_frames_analysed_total", Labels(config, group), status.FramesAnalysed);
        Header(text, "vigil_stream_frames_shed_total", "counter", "Analysis frames dropped because the detectors fell behind");
        foreach (var (config, status, group) in supervisors) Line(text, "vigil_stream_frames_shed_total", Labels(config, group), status.FramesShed);
        Header(text, "vigil_stream_lag_seconds", "gauge", "How far analysed media trails real time on the current connection");
        foreach (var (config, status, group) in supervisors) Line(text, "vigil_stream_lag_seconds", Labels(config, group), status.LagSeconds);
        Header(text, "vigil_stream_connections_total", "counter", "Connections opened (the first one and every reconnect)");
        foreach (var (config, status, group) in supervisors) Line(text, "vigil_stream_connections_total", Labels(config, group), status.Connections);
        Header(text, "vigil_stream_defects_total", "counter", "Defects started, by kind, since the service started");
        foreach (var (config, status, group) in supervisors)
            foreach (var (kind, count) in status.DefectsByKind.OrderBy(k => k.Key, StringComparer.Ordinal))
                Line(text, "vigil_stream_defects_total", Labels(config, group, ("kind", kind)), count);
        // as the summary's transport counts them, each failure once: by programme (0: the multiplex as a whole)
        Header(text, "vigil_transport_errors_total", "counter",
            "ETSI TR 101 290 indicator failures since the service started, by programme (0: the multiplex as a whole) and indicator");
        foreach (var (config, status, group) in supervisors)
            foreach (var (program, counts) in (status.TransportErrors ?? new Dictionary<int, long[]>()).OrderBy(p => p.Key))
                foreach (var indicator in Indicators.All)
                    Line(text, "vigil_transport_errors_total",
                        Labels(config, group, ("program", program.ToString(CultureInfo.InvariantCulture)), ("indicator", indicator.Name())), counts[(int)indicator]);

        Header(text, "vigil_events_total", "counter", "Events stored (highest event id)");
        Line(text, "vigil_events_total", "", store.LastSeq);
        Header(text, "vigil_sse_subscribers", "gauge", "Live event subscribers");
        Line(text, "vigil_sse_subscribers", "", hub.SubscriberCount);
        Header(text, "vigil_sse_refused_total", "counter", "Live event connections refused by the per-key or total limit");
        Line(text, "vigil_sse_refused_total", "", live.Refused);
        Header(text, "vigil_webhook_pending", "gauge", "Webhook deliveries waiting in the outbox");
        Line(text, "vigil_webhook_pending", "", store.PendingDeliveries());
        // per receiver, 0 when it is up to date: alert on max(...) > N to hear of a receiver that is away
        var backlog = store.OutboxBacklog().ToDictionary(b => b.WebhookId, StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        Header(text, "vigil_webhook_oldest_pending_age_seconds", "gauge", "Age of the oldest event not yet delivered to the receiver (0: none pending)");
        foreach (var hook in store.Webhooks)
            Line(text, "vigil_webhook_oldest_pending_age_seconds", $"{{webhook=\"{Escape(hook.Id)}\"}}",
                backlog.TryGetValue(hook.Id, out var b) ? Math.Round(Math.Max(0, now - b.OldestStored), 3) : 0);
        Header(text, "vigil_webhook_delivered_total", "counter", "Webhook deliveries acknowledged");
        Line(text, "vigil_webhook_delivered_total", "", webhooks.Delivered);
        Header(text, "vigil_webhook_failures_total", "counter", "Webhook delivery attempts that failed");
        Line(text, "vigil_webhook_failures_total", "", webhooks.Failures);
        Header(text, "vigil_results_written_total", "counter", "Results objects written");
        Line(text, "vigil_results_written_total", "", results.Written);

        foreach (var extra in extras) extra.WriteMetrics(text);

        using var process = Process.GetCurrentProcess();
        Header(text, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds");
        Line(text, "process_cpu_seconds_total", "", process.TotalProcessorTime.TotalSeconds);
        Header(text, "process_resident_memory_bytes", "gauge", "Resident memory size, in bytes");
        Line(text, "process_resident_memory_bytes", "", process.WorkingSet64);
        Header(text, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds");
        Line(text, "process_start_time_seconds", "", new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
        Header(text, "process_threads", "gauge", "Threads of the process");
        Line(text, "process_threads", "", process.Threads.Count);
        Header(text, "dotnet_gc_heap_bytes", "gauge", "Managed heap size, in bytes");
        Line(text, "dotnet_gc_heap_bytes", "", GC.GetTotalMemory(false));
        return text.ToString();
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    /// <param name="group">In a fleet, the detector group this pipeline runs (a node may run several groups of one stream).</param>
    private static string Labels(StreamConfig config, string? group, params (string Name, string Value)[] extra)
    {
        var text = new StringBuilder("{stream=\"").Append(Escape(config.Id)).Append("\",name=\"").Append(Escape(config.Name)).Append('"');
        if (group is not null) text.Append(",group=\"").Append(Escape(group)).Append('"');
        foreach (var (name, value) in extra) text.Append(',').Append(name).Append("=\"").Append(Escape(value)).Append('"');
        return text.Append('}').ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
