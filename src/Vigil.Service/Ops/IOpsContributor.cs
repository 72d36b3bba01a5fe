using System.Text;

namespace Vigil.Service.Ops;

/// <summary>What a mode of running adds to <c>/healthz</c> and <c>/metrics</c> (a fleet node: membership, placement).</summary>
public interface IOpsContributor
{
    /// <summary>Name of the member added to the <c>/healthz</c> answer.</summary>
    string Name { get; }

    /// <summary>False when this part is not ready to serve (then <c>/healthz</c> answers 503); <paramref name="details"/> goes into the answer.</summary>
    bool Check(out object details);

    /// <summary>Appends Prometheus text lines (with their HELP and TYPE headers).</summary>
    void WriteMetrics(StringBuilder text);
}
