using System.Globalization;
using System.Text.RegularExpressions;

namespace Vigil.Tests.Transport;

/// <summary>The per-PID figures of a TSDuck <c>tsanalyze</c> report ("PIDS ANALYSIS REPORT"), the reference a capture is checked against.</summary>
public sealed partial class TsduckReport
{
    public sealed record PidFacts(int Pid, long Packets, long UnexpectedDiscontinuities, long Duplicated, long? Pcrs, long? Pts);

    public IReadOnlyDictionary<int, PidFacts> Pids { get; }
    public long TotalPackets { get; }

    public TsduckReport(string path)
    {
        var text = File.ReadAllText(path);
        TotalPackets = Number(TotalPacketsPattern().Match(text).Groups[1].Value);
        var pidsSection = text[text.IndexOf("PIDS ANALYSIS REPORT", StringComparison.Ordinal)..];
        pidsSection = pidsSection[..pidsSection.IndexOf("=====\n\n", StringComparison.Ordinal)];
        var pids = new Dictionary<int, PidFacts>();
        foreach (var block in PidHeaderPattern().Split(pidsSection).Skip(1).Chunk(2))
        {
            var pid = int.Parse(block[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var body = block[1];
            long? Optional(Regex r) => r.Match(body) is { Success: true } m ? Number(m.Groups[1].Value) : null;
            pids[pid] = new PidFacts(pid,
                Number(PacketsPattern().Match(body).Groups[1].Value),
                Number(UnexpectedPattern().Match(body).Groups[1].Value),
                Number(DuplicatedPattern().Match(body).Groups[1].Value),
                Optional(PcrPattern()), Optional(PtsPattern()));
        }
        Pids = pids;
    }

    private static long Number(string s) => long.Parse(s.Replace(",", ""), CultureInfo.InvariantCulture);

    [GeneratedRegex(@"TS packets: \.+ ([\d,]+)")] private static partial Regex TotalPacketsPattern();
    [GeneratedRegex(@"\|  PID: 0x([0-9A-F]{4}) \(\d+\)")] private static partial Regex PidHeaderPattern();
    [GeneratedRegex(@"Packets: \.+ ([\d,]+)  Expected")] private static partial Regex PacketsPattern();
    [GeneratedRegex(@"Unexpect: \.+ ([\d,]+)")] private static partial Regex UnexpectedPattern();
    [GeneratedRegex(@"Duplicated: \.+ ([\d,]+)")] private static partial Regex DuplicatedPattern();
    [GeneratedRegex(@"PCR: \.+ ([\d,]+)")] private static partial Regex PcrPattern();
    [GeneratedRegex(@"PTS: \.+ ([\d,]+)")] private static partial Regex PtsPattern();
}
