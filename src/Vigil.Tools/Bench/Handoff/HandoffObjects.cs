using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Vigil.Media;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>
/// What the first design put in object storage, byte for byte: one object per analysed picture and one per
/// stream-second. A picture travels raw — the analysis luma the detectors read (8-bit, analysis size, no JPEG:
/// a lossy picture would not give the same defects), the full-resolution block-grid statistics the corruption
/// and blockiness detectors read, and the frame's metadata (timestamps, picture type, decoder flags). A
/// second's object holds that second's audio (planar float PCM, as decoded), its bitstream events and the
/// order of everything in it, so the detector process replays exactly the converter's item sequence.
/// Little-endian; each object starts with a 4-byte tag and a version.
/// </summary>
public static class HandoffObjects
{
    private const uint FrameTag = 0x31464756;  // "VGF1"
    private const uint SecondTag = 0x31534756; // "VGS1"

    /// <summary>Bytes of <paramref name="frame"/> as an object.</summary>
    public static int FrameSize(VideoFrame frame) =>
        FrameHeader + frame.Width * frame.Height + (frame.Grid.IsValid ? frame.Grid.AllMaps.Length * sizeof(ushort) : 0);

    private const int FrameHeader = 4 + 6 * 4 + 2 * 8 + 4 + 4 + 2 * 4;

    /// <summary>Writes <paramref name="frame"/> into <paramref name="into"/> (at least <see cref="FrameSize"/> bytes); returns the bytes written.</summary>
    public static int WriteFrame(VideoFrame frame, Span<byte> into)
    {
        var w = new Writer(into);
        w.U32(FrameTag);
        w.I32(frame.Width);
        w.I32(frame.Height);
        w.I32(frame.SourceWidth);
        w.I32(frame.SourceHeight);
        w.I32((int)frame.PictureType);
        w.I32((int)frame.DecodeErrors);
        w.F64(frame.Pts);
        w.F64(frame.Duration);
        w.I32((frame.IsKeyFrame ? 1 : 0) | (frame.IsRecoveryPoint ? 2 : 0) | (frame.IsCorrupt ? 4 : 0) | (frame.FullRange ? 8 : 0) |
              (frame.Grid.IsValid ? 16 : 0) | (frame.HasConcealedReference ? 32 : 0));
        w.I32(BitConverter.SingleToInt32Bits((float)frame.ConcealedArea));
        w.I32(frame.Grid.IsValid ? frame.Grid.BlockColumns : 0);
        w.I32(frame.Grid.IsValid ? frame.Grid.BlockRows : 0);
        w.Bytes(frame.Luma);
        if (frame.Grid.IsValid) w.Bytes(MemoryMarshal.AsBytes(frame.Grid.AllMaps));
        return w.Position;
    }

    /// <summary>
    /// The picture in <paramref name="data"/>, written into <paramref name="reuse"/> when it has the same size (the
    /// detector loop hands each frame back before it asks for the next), else into a new frame.
    /// </summary>
    public static VideoFrame ReadFrame(ReadOnlySpan<byte> data, VideoFrame? reuse)
    {
        var r = new Reader(data);
        if (r.U32() != FrameTag) throw new InvalidDataException("not a frame object");
        var (width, height) = (r.I32(), r.I32());
        if (width <= 0 || height <= 0 || (long)width * height > data.Length) throw new InvalidDataException($"frame object of {width}×{height}");
        var (sourceWidth, sourceHeight, type, errors) = (r.I32(), r.I32(), r.I32(), r.I32());
        var (pts, duration) = (r.F64(), r.F64());
        var flags = r.I32();
        var concealedArea = BitConverter.Int32BitsToSingle(r.I32());
        var (columns, rows) = (r.I32(), r.I32());
        var hasGrid = (flags & 16) != 0;
        var frame = reuse is not null && reuse.Width == width && reuse.Height == height && (hasGrid || !reuse.Grid.IsValid)
            ? reuse
            : VideoFrame.Create(width, height, pts);
        frame.Pts = pts;
        frame.Duration = duration;
        frame.SourceWidth = sourceWidth;
        frame.SourceHeight = sourceHeight;
        frame.PictureType = (PictureType)type;
        frame.DecodeErrors = (DecodeErrors)errors;
        frame.IsKeyFrame = (flags & 1) != 0;
        frame.IsRecoveryPoint = (flags & 2) != 0;
        frame.IsCorrupt = (flags & 4) != 0;
        frame.FullRange = (flags & 8) != 0;
        frame.HasConcealedReference = (flags & 32) != 0;
        frame.ConcealedArea = concealedArea;
        r.Bytes(width * height).CopyTo(frame.Luma);
        if (hasGrid)
        {
            var count = checked(columns * rows * BlockGridStats.MapCount);
            frame.Grid.Load(columns, rows, MemoryMarshal.Cast<byte, ushort>(r.Bytes(count * sizeof(ushort))));
        }
        r.End();
        return frame;
    }

    /// <summary>One entry of a second's object, in the converter's order.</summary>
    public enum EntryKind : byte
    {
        /// <summary>A picture: its object is <see cref="FrameKey"/>(stream, sequence).</summary>
        Frame = 1,
        /// <summary>An audio block, carried inline.</summary>
        Audio = 2,
        /// <summary>A bitstream event, carried inline.</summary>
        Event = 3,
    }

    /// <summary>The object key of picture <paramref name="sequence"/> of stream <paramref name="stream"/>.</summary>
    public static string FrameKey(int stream, long sequence) => $"s{stream:D3}/frames/{sequence:D9}";

    /// <summary>The object key of second <paramref name="second"/> of stream <paramref name="stream"/>.</summary>
    public static string SecondKey(int stream, long second) => $"s{stream:D3}/seconds/{second:D7}";

    /// <summary>
    /// Collects one stream-second as the converter reads it: picture references, audio blocks and events, in order.
    /// Reused second after second (its buffer grows to the largest second and stays).
    /// </summary>
    public sealed class SecondWriter
    {
        private byte[] _buffer = new byte[256 * 1024];
        private int _length;

        /// <summary>Entries so far.</summary>
        public int Entries { get; private set; }

        /// <summary>Pictures referenced so far.</summary>
        public int Frames { get; private set; }

        /// <summary>Starts second <paramref name="second"/>.</summary>
        public void Begin(long second)
        {
            _length = 0;
            Entries = Frames = 0;
            var w = Reserve(16);
            w.U32(SecondTag);
            w.I32(0); // entry count, written by Finish
            w.I64(second);
            _length += w.Position;
        }

        public void AddFrame(long sequence)
        {
            var w = Reserve(9);
            w.U8((byte)EntryKind.Frame);
            w.I64(sequence);
            _length += w.Position;
            Entries++;
            Frames++;
        }

        public void AddAudio(AudioBlock block)
        {
            var samples = MemoryMarshal.AsBytes(block.AllSamples);
            var w = Reserve(1 + 3 * 4 + 8 + samples.Length);
            w.U8((byte)EntryKind.Audio);
            w.I32(block.Channels);
            w.I32(block.SampleCount);
            w.I32(block.SampleRate);
            w.F64(block.Pts);
            w.Bytes(samples);
            _length += w.Position;
            Entries++;
        }

        public void AddEvent(in MediaEvent e)
        {
            var w = Reserve(1 + 2 * 4 + 2 * 8);
            w.U8((byte)EntryKind.Event);
            w.I32((int)e.Kind);
            w.I32(e.StreamIndex);
            w.F64(e.Pts);
            w.F64(e.Value);
            _length += w.Position;
            Entries++;
        }

        /// <summary>The object's bytes (valid until the next <see cref="Begin"/>).</summary>
        public ReadOnlyMemory<byte> Finish()
        {
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(4), Entries);
            return _buffer.AsMemory(0, _length);
        }

        private Writer Reserve(int bytes)
        {
            if (_length + bytes > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + bytes));
            return new Writer(_buffer.AsSpan(_length));
        }
    }

    /// <summary>One replayed entry of a second: a picture to fetch, or an inline audio block or event.</summary>
    public readonly record struct SecondEntry(EntryKind Kind, long FrameSequence, AudioBlock? Audio, MediaEvent Event);

    /// <summary>The entries of a second's object, in order (audio blocks newly made, owned by the caller).</summary>
    public static List<SecondEntry> ReadSecond(ReadOnlySpan<byte> data, out long second)
    {
        var r = new Reader(data);
        if (r.U32() != SecondTag) throw new InvalidDataException("not a second object");
        var count = r.I32();
        second = r.I64();
        if (count < 0 || count > data.Length) throw new InvalidDataException($"second object with {count} entries");
        var entries = new List<SecondEntry>(count);
        for (var i = 0; i < count; i++)
        {
            switch ((EntryKind)r.U8())
            {
                case EntryKind.Frame:
                    entries.Add(new SecondEntry(EntryKind.Frame, r.I64(), null, default));
                    break;
                case EntryKind.Audio:
                {
                    var (channels, samples, rate) = (r.I32(), r.I32(), r.I32());
                    var pts = r.F64();
                    if (channels <= 0 || samples < 0 || (long)channels * samples * sizeof(float) > data.Length)
                        throw new InvalidDataException($"audio entry of {channels}×{samples}");
                    var block = AudioBlock.Create(channels, samples, rate, pts);
                    r.Bytes(channels * samples * sizeof(float)).CopyTo(MemoryMarshal.AsBytes(block.AllSamples));
                    entries.Add(new SecondEntry(EntryKind.Audio, 0, block, default));
                    break;
                }
                case EntryKind.Event:
                {
                    var (kind, stream) = (r.I32(), r.I32());
                    var (pts, value) = (r.F64(), r.F64());
                    entries.Add(new SecondEntry(EntryKind.Event, 0, null, new MediaEvent((MediaEventKind)kind, stream, pts, value)));
                    break;
                }
                default:
                    throw new InvalidDataException($"unknown entry in second {second}");
            }
        }
        r.End();
        return entries;
    }

    private ref struct Writer(Span<byte> span)
    {
        private readonly Span<byte> _span = span;
        public int Position { get; private set; }

        public void U8(byte v) => _span[Position++] = v;
        public void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(_span[Position..], v); Position += 4; }
        public void I32(int v) { BinaryPrimitives.WriteInt32LittleEndian(_span[Position..], v); Position += 4; }
        public void I64(long v) { BinaryPrimitives.WriteInt64LittleEndian(_span[Position..], v); Position += 8; }
        public void F64(double v) { BinaryPrimitives.WriteDoubleLittleEndian(_span[Position..], v); Position += 8; }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_span[Position..]);
            Position += bytes.Length;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> span)
    {
        private readonly ReadOnlySpan<byte> _span = span;
        private int _position;

        public byte U8() => Take(1)[0];
        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
        public double F64() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
        public ReadOnlySpan<byte> Bytes(int count) => Take(count);

        public void End()
        {
            if (_position != _span.Length) throw new InvalidDataException($"{_span.Length - _position} bytes left over in the object");
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count < 0 || _position + count > _span.Length) throw new InvalidDataException("object ends early");
            var slice = _span.Slice(_position, count);
            _position += count;
            return slice;
        }
    }
}
