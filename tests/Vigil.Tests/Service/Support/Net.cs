using System.Net;
using System.Net.Sockets;

namespace Vigil.Tests.Service.Support;

/// <summary>Ports on 127.0.0.1 and waiting for conditions in live tests (deadlines are generous upper bounds, not assertions on speed).</summary>
internal static class Net
{
    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static int FreeUdpPort()
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, double seconds, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await condition()) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out after {seconds} s waiting for {what}");
            await Task.Delay(200);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, double seconds, string what) =>
        WaitUntilAsync(() => Task.FromResult(condition()), seconds, what);

    public static string TempDir(string tag)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"vigil-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
