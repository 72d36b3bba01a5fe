namespace Vigil.Events;

/// <summary>
/// The sink of one programme of a multiplex: tags each of its defects with the programme's service id
/// (<see cref="Defect.Program"/>). Transport defects (<c>ts.*</c>) already say which programme they are on,
/// and one on the multiplex as a whole (sync, PAT) stays untagged.
/// </summary>
public sealed class ProgramSink(int program, IDefectSink inner) : IDefectSink
{
    public void DefectStarted(Defect defect) => inner.DefectStarted(Tag(defect));

    public void DefectEnded(Defect defect) => inner.DefectEnded(Tag(defect));

    private Defect Tag(Defect defect) =>
        defect.Program is not null || defect.Kind.StartsWith("ts.", StringComparison.Ordinal) ? defect : defect with { Program = program };
}
