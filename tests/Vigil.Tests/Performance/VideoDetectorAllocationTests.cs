using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Media;

namespace Vigil.Tests;

/// <summary>Steady state of the video detectors allocates nothing per frame (measured, not assumed).</summary>
public class VideoDetectorAllocationTests
{
    private sealed class NullSink : IDefectSink
    {
        public void DefectStarted(Defect defect) { }
        public void DefectEnded(Defect defect) { }
    }

    [Fact]
    public void Process_CorruptionAndBlockinessInSteadyState_AllocateNothingPerFrame()
    {
        var sink = new NullSink();
        IVideoDetector[] detectors =
        [
            new CorruptionDetector(new CorruptionOptions(), sink, videoStream: 0),
            new BlockinessDetector(new BlockinessOptions(), sink),
            new BlackDetector(new BlackOptions(), sink),
            new FreezeDetector(new FreezeOptions(), sink),
        ];
        // two moving pictures with grid statistics measured up front (the native reader fills them per frame)
        var frames = new VideoFrame[2];
        for (var k = 0; k < frames.Length; k++)
        {
            frames[k] = VideoFrame.Create(640, 360, 0);
            var luma = frames[k].Luma;
            for (var i = 0; i < luma.Length; i++) luma[i] = (byte)((i % 640 / 8 + i / 640 / 8 + k) % 2 * 40 + 60);
            frames[k].MeasureGrid();
        }
        void Run(int from, int count)
        {
            for (var n = from; n < from + count; n++)
            {
                var frame = frames[n % 2];
                frame.Pts = n / 25.0;
                frame.Duration = 1 / 25.0;
                foreach (var d in detectors) d.Process(frame);
            }
        }

        Run(0, 50); // warm-up: buffers sized, JIT done
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(50, 500);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
