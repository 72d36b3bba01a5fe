namespace Vigil.Detectors.Sync;

/// <summary>
/// An event envelope on a fixed 5 ms media-time grid, kept in a ring of recent cells. Audio hops and
/// video frames land between grid points, so each value is split linearly between its two
/// neighbouring cells: the grid then keeps sub-cell timing (a 30 fps frame at 33.3 ms is not rounded
/// to 35 ms), which the correlation's parabolic refinement turns back into a sub-cell offset.
/// Cells are indexed by absolute media time (cell = time / <see cref="Step"/>), so two grids
/// filled from different streams line up without any bookkeeping.
/// </summary>
public sealed class EnvelopeGrid
{
    /// <summary>Seconds per cell.</summary>
    public const double Step = 0.005;

    private readonly float[] _cells;
    private readonly long _mask;
    private long _end = long.MinValue; // cells at and after this hold nothing yet

    /// <param name="seconds">How much recent history must stay readable.</param>
    public EnvelopeGrid(double seconds)
    {
        var needed = (long)Math.Ceiling(seconds / Step) + 2;
        var capacity = 1L;
        while (capacity < needed) capacity <<= 1;
        _cells = new float[capacity];
        _mask = capacity - 1;
    }

    /// <summary>Cells the ring holds.</summary>
    public int Capacity => _cells.Length;

    /// <summary>One past the newest cell written (the grid's front).</summary>
    public long End => _end;

    /// <summary>Grid index of a media time (cell <c>i</c> is the point <c>i · Step</c>).</summary>
    public static long CellOf(double time) => (long)Math.Floor(time / Step);

    /// <summary>Adds <paramref name="value"/> at <paramref name="time"/>, split between the two nearest cells.</summary>
    public void Add(double time, float value)
    {
        var position = time / Step;
        var cell = (long)Math.Floor(position);
        var fraction = (float)(position - cell);
        Extend(cell + 2);
        if (cell < _end - _cells.Length) return; // older than the ring: dropped
        _cells[cell & _mask] += value * (1 - fraction);
        _cells[(cell + 1) & _mask] += value * fraction;
    }

    /// <summary>The value of cell <paramref name="cell"/>, 0 outside what the ring holds.</summary>
    public float this[long cell] => cell < _end && cell >= _end - _cells.Length ? _cells[cell & _mask] : 0;

    /// <summary>Copies cells [<paramref name="first"/>, first + destination.Length) (0 where nothing is held).</summary>
    public void CopyTo(long first, Span<float> destination)
    {
        var oldest = _end - _cells.Length;
        for (var i = 0; i < destination.Length; i++)
        {
            var cell = first + i;
            destination[i] = cell < _end && cell >= oldest ? _cells[cell & _mask] : 0;
        }
    }

    /// <summary>Forgets everything (a timestamp discontinuity).</summary>
    public void Reset()
    {
        Array.Clear(_cells);
        _end = long.MinValue;
    }

    /// <summary>Makes cells up to (not including) <paramref name="end"/> writable, zeroing the ones entering the ring.</summary>
    private void Extend(long end)
    {
        if (end <= _end) return;
        if (_end == long.MinValue || end - _end >= _cells.Length) Array.Clear(_cells);
        else for (var c = _end; c < end; c++) _cells[c & _mask] = 0;
        _end = end;
    }
}
