using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>
/// A long-lived child process of the hand-off benchmark (a worker, the object store, a live sender): its
/// standard output as lines to wait on, the end of its standard error for messages, and a kill on dispose so
/// that nothing outlives the benchmark.
/// </summary>
public sealed class BenchProcess : IAsyncDisposable
{
    private const int StderrKept = 4000;

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly StringBuilder _stderr = new();

    private BenchProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>What the benchmark calls it in its tables.</summary>
    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="program"/> with <paramref name="arguments"/>; its standard input stays open until <see cref="CloseInputAsync"/>.</summary>
    public static BenchProcess Start(string name, string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        var process = new Process { StartInfo = info };
        var child = new BenchProcess(process, name);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) child._lines.Writer.TryComplete();
            else child._lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (child._stderr)
            {
                child._stderr.AppendLine(e.Data);
                if (child._stderr.Length > 2 * StderrKept) child._stderr.Remove(0, child._stderr.Length - StderrKept);
            }
        };
        if (!process.Start()) throw new InvalidOperationException($"cannot start {program}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The end of what it wrote to standard error.</summary>
    public string StderrTail
    {
        get
        {
            lock (_stderr)
            {
                var text = _stderr.ToString().Trim();
                return text.Length > StderrKept ? "…" + text[^StderrKept..] : text;
            }
        }
    }

    /// <summary>
    /// Waits for an output line that <paramref name="match"/> accepts and returns it; fails when the process
    /// ends first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancel)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(deadline.Token))
                while (_lines.Reader.TryRead(out var line))
                    if (match(line)) return line;
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} printed nothing expected in {timeout.TotalSeconds:0} s{Said()}");
        }
        await _process.WaitForExitAsync(cancel);
        throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}) early{Said()}");
    }

    /// <summary>Closes its standard input (a worker's cue to exit) and waits up to <paramref name="timeout"/> for it to end.</summary>
    public async Task<int> CloseInputAsync(TimeSpan timeout)
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // it is already gone
        }
        return await WaitForExitAsync(timeout);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for it to end by itself; kills it after that. Returns its exit status.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await _process.WaitForExitAsync();
            throw new TimeoutException($"{Name} did not end in {timeout.TotalSeconds:0} s{Said()}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // left to the kernel; the kill was sent
        }
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it exited meanwhile
        }
    }

    private string Said() => StderrTail is { Length: > 0 } tail ? $": {tail}" : "";
}
