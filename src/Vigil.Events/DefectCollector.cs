
namespace Vigil.Events;

/// <summary>
/// A thread-safe <see cref="IDefectSink"/> that forwards each event as it happens and keeps the
/// ended defects, in order, for reports.
/// </summary>
public sealed class DefectCollector(Action<Defect>? onStarted = null, Action<Defect>? onEnded = null) : IDefectSink
{
    private readonly List<Defect> _ended = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<Defect> Ended
    {
        get { lock (_gate) return _ended.ToArray(); }
    }

    public int Count
    {
        get { lock (_gate) return _ended.Count; }
    }

    public void DefectStarted(Defect defect) => onStarted?.Invoke(defect);

    public void DefectEnded(Defect defect)
    {
        lock (_gate) _ended.Add(defect);
        onEnded?.Invoke(defect);
    }
}
