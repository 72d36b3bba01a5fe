using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Vigil.Cluster.Messages;

/// <summary>Messages that cross nodes; <see cref="FleetSerializer"/> writes them.</summary>
public interface IFleetMessage;

/// <summary>
/// From the reconciler to one (stream, group) entity, every reconcile tick: run this group of this
/// stream. An entity already running <see cref="Version"/> does nothing but note it was heard from.
/// </summary>
/// <param name="Config">The stream's definition (JSON of <c>StreamConfig</c>) with the group's detectors only.</param>
public sealed record EnsureGroup(string StreamId, string Role, string Config, IReadOnlyList<string> Kinds, bool ReportsStall, string Version) : IFleetMessage;

/// <summary>From the reconciler: the stream was removed, paused or regrouped; stop and close what is open.</summary>
/// <param name="Kinds">The event kinds the group reported: what to close if no pipeline of it runs any more.</param>
public sealed record StopGroup(string StreamId, string Role, IReadOnlyList<string> Kinds) : IFleetMessage;

/// <summary>From any node's API to the reconciler: desired state changed, reconcile now.</summary>
public sealed record DesiredChanged(string Reason) : IFleetMessage;

/// <summary>
/// From a node's API to the node that runs a stream's detector group (its <see cref="Entities.LiveViewActor"/>): the
/// stream's latest picture (<paramref name="Seconds"/> 0) or its last <paramref name="Seconds"/> of loudness, for the dashboard.
/// </summary>
public sealed record LiveViewAsk(string StreamId, int Seconds) : IFleetMessage;

/// <summary>The answer to a <see cref="LiveViewAsk"/>: the thumbnail or the loudness, null when that node has none.</summary>
public sealed record LiveViewAnswer(Vigil.Service.Live.Thumbnail? Thumbnail, Vigil.Service.Live.LoudnessHistory? Loudness) : IFleetMessage;

/// <summary>
/// Sent by the shard to its entities when the shard moves (rebalance, graceful leave): stop without
/// closing open defects, the next node of the role continues them. Local only.
/// </summary>
public sealed class HandOverStop
{
    public static readonly HandOverStop Instance = new();

    private HandOverStop()
    {
    }
}

/// <summary>System.Text.Json for the fleet's messages: compact, versionable, no type names on the wire.</summary>
public sealed class FleetSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public override int Identifier => 727;

    public override byte[] ToBinary(object obj) => obj switch
    {
        EnsureGroup m => JsonSerializer.SerializeToUtf8Bytes(m),
        StopGroup m => JsonSerializer.SerializeToUtf8Bytes(m),
        DesiredChanged m => JsonSerializer.SerializeToUtf8Bytes(m),
        LiveViewAsk m => JsonSerializer.SerializeToUtf8Bytes(m),
        LiveViewAnswer m => JsonSerializer.SerializeToUtf8Bytes(m),
        _ => throw new ArgumentException($"{obj.GetType()} is not a fleet message"),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        "E" => JsonSerializer.Deserialize<EnsureGroup>(bytes)!,
        "S" => JsonSerializer.Deserialize<StopGroup>(bytes)!,
        "D" => JsonSerializer.Deserialize<DesiredChanged>(bytes)!,
        "LA" => JsonSerializer.Deserialize<LiveViewAsk>(bytes)!,
        "LV" => JsonSerializer.Deserialize<LiveViewAnswer>(bytes)!,
        _ => throw new System.Runtime.Serialization.SerializationException($"unknown fleet message manifest '{manifest}'"),
    };

    public override string Manifest(object o) => o switch
    {
        EnsureGroup => "E",
        StopGroup => "S",
        DesiredChanged => "D",
        LiveViewAsk => "LA",
        LiveViewAnswer => "LV",
        _ => throw new ArgumentException($"{o.GetType()} is not a fleet message"),
    };
}
