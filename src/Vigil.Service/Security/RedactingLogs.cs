using System.Collections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Vigil.Service.Security;

/// <summary>
/// Makes sure no stream URL secret reaches a log, whoever writes the line (the service, a library, an
/// exception message quoting the URL FFmpeg could not open): every log provider is wrapped so that the
/// message, each structured value and the exception text pass through <see cref="UrlRedaction.Scrub"/>.
/// Call sites still log ids rather than URLs; this is the net under them.
/// </summary>
public static class RedactingLogs
{
    /// <summary>Wraps every <see cref="ILoggerProvider"/> registered so far.</summary>
    public static ILoggingBuilder RedactUrls(this ILoggingBuilder logging)
    {
        var services = logging.Services;
        var providers = services.Where(d => d.ServiceType == typeof(ILoggerProvider)).ToList();
        foreach (var descriptor in providers)
        {
            services.Remove(descriptor);
            services.Add(ServiceDescriptor.Singleton<ILoggerProvider>(sp => new Provider(Create(sp, descriptor))));
        }
        return logging;
    }

    private static ILoggerProvider Create(IServiceProvider sp, ServiceDescriptor d) =>
        d.ImplementationInstance as ILoggerProvider
        ?? d.ImplementationFactory?.Invoke(sp) as ILoggerProvider
        ?? (ILoggerProvider)ActivatorUtilities.CreateInstance(sp, d.ImplementationType!);

    private sealed class Provider(ILoggerProvider inner) : ILoggerProvider, ISupportExternalScope
    {
        public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName));

        public void SetScopeProvider(IExternalScopeProvider scopeProvider)
        {
            if (inner is ISupportExternalScope scoped) scoped.SetScopeProvider(scopeProvider);
        }

        public void Dispose() => inner.Dispose();
    }

    private sealed class Logger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel)) return;
            var message = UrlRedaction.Scrub(formatter(state, exception));
            var redacted = new State(message, state as IReadOnlyList<KeyValuePair<string, object?>>);
            inner.Log(logLevel, eventId, redacted, exception is null ? null : new RedactedException(exception), static (s, _) => s.Message);
        }
    }

    /// <summary>The structured values with every text value scrubbed (the message template itself stays).</summary>
    private sealed class State(string message, IReadOnlyList<KeyValuePair<string, object?>>? values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message { get; } = message;

        public int Count => values?.Count ?? 0;

        public KeyValuePair<string, object?> this[int index]
        {
            get
            {
                var (key, value) = values![index];
                if (key == "{OriginalFormat}") return new(key, value);
                return new(key, value is null or ValueType ? value : UrlRedaction.Scrub(value.ToString() ?? ""));
            }
        }

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }

    /// <summary>An exception as a log shows it (message and stack trace), with URLs redacted.</summary>
    private sealed class RedactedException(Exception inner) : Exception(UrlRedaction.Scrub(inner.Message))
    {
        public override string ToString() => UrlRedaction.Scrub(inner.ToString());

        public override string? StackTrace => null;
    }
}
