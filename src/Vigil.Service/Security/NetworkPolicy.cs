using System.Net;
using System.Net.Sockets;

namespace Vigil.Service.Security;

/// <summary>
/// Which addresses the service may connect to on a user's behalf (server-side request forgery). A URL's
/// text is not enough: a host name can resolve to anything, so callers check the addresses it resolves
/// to, and the webhook client checks them again at connect time (<see cref="GuardedConnect"/>).
/// Cloud metadata endpoints are always refused, whatever the allow-list says: they hand out credentials.
/// </summary>
public sealed class NetworkPolicy
{
    /// <summary>Metadata and platform endpoints of cloud providers (AWS, GCP, Azure, Alibaba, Oracle, AWS IPv6).</summary>
    private static readonly IPAddress[] Metadata =
    [
        IPAddress.Parse("169.254.169.254"), IPAddress.Parse("169.254.170.2"), IPAddress.Parse("169.254.169.253"),
        IPAddress.Parse("fd00:ec2::254"), IPAddress.Parse("fd00:ec2::253"), IPAddress.Parse("100.100.100.200"),
        IPAddress.Parse("168.63.129.16"), IPAddress.Parse("192.0.0.192"),
    ];

    private static readonly (IPNetwork Network, string Why)[] LinkLocal =
    [
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
    ];

    /// <summary>What a webhook must not reach by default: the host itself and every internal network.</summary>
    private static readonly (IPNetwork Network, string Why)[] Internal =
    [
        .. LinkLocal,
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared (carrier-grade NAT)"),
        (IPNetwork.Parse("192.0.0.0/24"), "reserved (IETF)"),
        (IPNetwork.Parse("198.18.0.0/15"), "reserved (benchmarking)"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("fc00::/7"), "private (unique local)"),
        (IPNetwork.Parse("fec0::/10"), "private (site-local)"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private readonly (IPNetwork Network, string Why)[] _refused;
    private readonly IPNetwork[] _allowed;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;

    private NetworkPolicy((IPNetwork, string)[] refused, IEnumerable<string> allowed, Func<string, CancellationToken, Task<IPAddress[]>>? resolve)
    {
        _refused = refused;
        _allowed = allowed.Select(ParseNetwork).ToArray();
        _resolve = resolve ?? Dns.GetHostAddressesAsync;
    }

    /// <summary>
    /// For webhooks: public addresses only, unless <paramref name="allowed"/> lets an internal network in.
    /// <paramref name="resolve"/> replaces DNS (tests).
    /// </summary>
    public static NetworkPolicy ForWebhooks(IEnumerable<string> allowed, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null) =>
        new(Internal, allowed, resolve);

    /// <summary>
    /// For stream inputs: anything but link-local and metadata addresses. Loopback and private networks are
    /// where contribution feeds usually come from (a local encoder, a multicast LAN), so they stay allowed.
    /// </summary>
    public static NetworkPolicy ForInputs(IEnumerable<string> allowed, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null) =>
        new(LinkLocal, allowed, resolve);

    /// <summary>Null when <paramref name="address"/> may be reached, else why not (<c>169.254.1.1 is link-local</c>).</summary>
    public string? Refusal(IPAddress address) => Why(Canonical(address)) is { } why ? $"{Canonical(address)} is {why}" : null;

    private string? Why(IPAddress a)
    {
        if (Metadata.Contains(a)) return "a cloud metadata address";
        foreach (var (network, why) in _refused)
        {
            if (!network.Contains(a)) continue;
            return _allowed.Any(n => n.Contains(a)) ? null : why;
        }
        return null;
    }

    /// <summary>
    /// Null when every address <paramref name="host"/> stands for may be reached. A name that resolves to
    /// several addresses is refused if any one is refused: which one a client picks is not ours to know.
    /// A name that does not resolve is not refused here (the connection will fail on its own).
    /// </summary>
    public async Task<string?> CheckHostAsync(string host, CancellationToken cancellation) =>
        Refusal(host, await ResolveAsync(host, cancellation));

    /// <summary>Null when every one of <paramref name="addresses"/> (what <paramref name="host"/> resolved to) may be reached, else why not.</summary>
    public string? Refusal(string host, IReadOnlyList<IPAddress> addresses)
    {
        var literal = IPAddress.TryParse(host.Trim('[', ']'), out _);
        foreach (var address in addresses)
        {
            var a = Canonical(address);
            if (Why(a) is { } why) return literal ? $"{a} is {why}" : $"{host} resolves to {a} ({why})";
        }
        return null;
    }

    /// <summary>The addresses of <paramref name="host"/> (an IP literal is its own); empty when the name does not resolve.</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellation)
    {
        var bare = host.Trim('[', ']');
        if (IPAddress.TryParse(bare, out var literal)) return [literal];
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            return await _resolve(bare, timeout.Token);
        }
        catch (SocketException)
        {
            return [];
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return [];
        }
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host itself, refuses before any
    /// packet is sent when an address is not allowed, and connects to the checked address (not to a name
    /// the socket would resolve again), so DNS rebinding between check and connect cannot redirect it.
    /// </summary>
    public async ValueTask<Stream> GuardedConnect(SocketsHttpConnectionContext context, CancellationToken cancellation)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = await ResolveAsync(host, cancellation);
        if (addresses.Length == 0) throw new HttpRequestException($"{host} does not resolve");
        if (Refusal(host, addresses) is { } refused) throw new HttpRequestException($"refused to connect: {refused}");
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellation);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new HttpRequestException($"cannot connect to {host}:{context.DnsEndPoint.Port}: {last?.Message}", last);
    }

    /// <summary>IPv4 written as IPv6 (<c>::ffff:169.254.169.254</c>, NAT64 <c>64:ff9b::a9fe:a9fe</c>) is judged as the IPv4 it carries.</summary>
    public static IPAddress Canonical(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        ReadOnlySpan<byte> nat64 = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
        if (bytes[..12].SequenceEqual(nat64)) return new IPAddress(bytes[12..]);
        // IPv4-compatible (::a.b.c.d, deprecated but still parsed by some stacks), except :: and ::1
        if (bytes[..12].IndexOfAnyExcept((byte)0) < 0 && (bytes[12] | bytes[13]) != 0) return new IPAddress(bytes[12..]);
        return address.ScopeId == 0 ? address : new IPAddress(bytes.ToArray()); // a zone (fe80::1%eth0) does not change the network
    }

    private static IPNetwork ParseNetwork(string text)
    {
        var trimmed = text.Trim();
        if (IPNetwork.TryParse(trimmed, out var network)) return network;
        if (IPAddress.TryParse(trimmed, out var single)) return new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        throw new FormatException($"'{text}' is not a network (CIDR such as 10.0.0.0/8, or an address)");
    }
}
