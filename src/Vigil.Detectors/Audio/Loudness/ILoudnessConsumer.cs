namespace Vigil.Detectors.Audio.Loudness;

/// <summary>
/// A detector that reads loudness from a <see cref="LoudnessMeter"/>. The pipeline lends it the meter it
/// runs for the summary anyway, so K-weighting runs once however many consumers there are.
/// </summary>
public interface ILoudnessConsumer
{
    /// <summary>Reads from <paramref name="meter"/> (fed by the caller) instead of metering the audio itself.</summary>
    void UseMeter(LoudnessMeter meter);
}
