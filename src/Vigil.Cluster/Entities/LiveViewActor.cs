using Akka.Actor;
using Vigil.Cluster.Messages;
using Vigil.Service.Live;

namespace Vigil.Cluster.Entities;

/// <summary>
/// One per node, at <see cref="Path"/>: answers other nodes' <see cref="LiveViewAsk"/> from the pipelines running
/// here, so that the dashboard of any node shows every stream's picture and loudness (a picture is encoded where
/// the stream is decoded, at most once per <c>ThumbnailSeconds</c>, and only when a dashboard asks for it).
/// </summary>
public sealed class LiveViewActor : ReceiveActor
{
    /// <summary>The actor's name under /user on every node.</summary>
    public const string Name = "live-view";

    /// <summary>Its path on a node of the cluster.</summary>
    public static ActorPath Path(Address node) => new RootActorPath(node) / "user" / Name;

    public LiveViewActor(LocalGroups local)
    {
        Receive<LiveViewAsk>(ask =>
        {
            var here = local.All.Where(g => g.Assignment.Config.Id == ask.StreamId).OrderBy(g => g.Assignment.Role, StringComparer.Ordinal).ToList();
            var pipelines = here.Select(g => g.Runner.Supervisor).OfType<StreamSupervisor>().ToList();
            Sender.Tell(ask.Seconds == 0
                ? new LiveViewAnswer(LiveView.Thumbnail(pipelines), null)
                : new LiveViewAnswer(null, here.Count == 0 ? null : LiveView.Loudness(pipelines, here[0].Assignment.Config, ask.Seconds)));
        });
    }
}
