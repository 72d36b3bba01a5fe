using Vigil.Media;

namespace Vigil.Detectors.Audio;

/// <summary>
/// Cuts an audio track into fixed analysis units (10 ms) whatever the decoder's block sizes. For each
/// block it hands out the pieces that fill the current unit (<see cref="Split"/>) and says which piece
/// completes one, with the media time the unit started at. The detectors that judge audio unit by unit
/// (silence, clipping) share it, so that a unit means the same span of samples to both.
/// </summary>
public sealed class AudioUnits(double unitSeconds = AudioUnits.DefaultSeconds)
{
    /// <summary>The analysis unit of the audio detectors, in seconds.</summary>
    public const double DefaultSeconds = 0.010;

    private int _filled;
    private double _start = double.NaN;

    /// <summary>Channels of the layout the units are cut for.</summary>
    public int Channels { get; private set; }

    /// <summary>Sample rate of the layout the units are cut for.</summary>
    public int SampleRate { get; private set; }

    /// <summary>Samples per unit at <see cref="SampleRate"/>.</summary>
    public int Length { get; private set; }

    /// <summary>Seconds per unit (<see cref="Length"/> samples).</summary>
    public double Seconds => SampleRate > 0 ? Length / (double)SampleRate : unitSeconds;

    /// <summary>
    /// Whether <paramref name="block"/> has the layout the units are cut for; when not, the units are
    /// set up for its layout (the partial unit is dropped) and the caller sets itself up again.
    /// </summary>
    public bool Fits(AudioBlock block)
    {
        if (block.Channels == Channels && block.SampleRate == SampleRate) return true;
        Channels = block.Channels;
        SampleRate = block.SampleRate;
        Length = Math.Max(1, (int)Math.Round(SampleRate * unitSeconds));
        Reset();
        return false;
    }

    /// <summary>A break in the audio (a discontinuity): the partial unit is dropped, the next block starts a new one.</summary>
    public void Reset() => _filled = 0;

    /// <summary>The pieces of <paramref name="block"/>, in order, each within one unit.</summary>
    public Pieces Split(AudioBlock block) => new(this, block);

    /// <summary>One run of samples of a block that lies within one unit.</summary>
    /// <param name="Offset">First sample of the piece in the block.</param>
    /// <param name="Count">Samples in the piece.</param>
    /// <param name="UnitStart">Media time of the unit's first sample.</param>
    /// <param name="Completes">The piece fills its unit: the unit ends with it.</param>
    public readonly record struct Piece(int Offset, int Count, double UnitStart, bool Completes);

    /// <summary>Enumerates the pieces of a block (a struct: no allocation per block).</summary>
    public ref struct Pieces
    {
        private readonly AudioUnits _units;
        private readonly AudioBlock _block;
        private int _offset;

        internal Pieces(AudioUnits units, AudioBlock block)
        {
            _units = units;
            _block = block;
        }

        public Piece Current { get; private set; }

        public readonly Pieces GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_offset >= _block.SampleCount) return false;
            var u = _units;
            if (u._filled == 0) u._start = _block.Pts + _offset / (double)u.SampleRate;
            var take = Math.Min(u.Length - u._filled, _block.SampleCount - _offset);
            u._filled += take;
            var completes = u._filled == u.Length;
            Current = new Piece(_offset, take, u._start, completes);
            if (completes) u._filled = 0;
            _offset += take;
            return true;
        }
    }
}
