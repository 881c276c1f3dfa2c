using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Actors.Client.Api.Webhooks;

/// <summary>Keeps webhooks from reaching inside: a destination may not be loopback, private,
/// link-local, unique-local, carrier-grade NAT, multicast, reserved or unspecified — in any
/// spelling (decimal, hex or short IPv4, IPv4-mapped IPv6, <c>localhost</c> names) — unless an
/// operator allowed its host. Checked when a job is submitted (the URL as written) and again when
/// the webhook is sent, on every address the name resolves to (DNS rebinding), by the connection
/// itself; redirects are not followed.</summary>
public sealed class WebhookDestinations(IOptions<WebhookOptions> options)
{
    private readonly HashSet<string> _allowed = new(options.Value.AllowedHosts.Select(h => h.Trim().Trim('[', ']').ToLowerInvariant()), StringComparer.Ordinal);

    /// <summary>Null if <paramref name="url"/> may receive webhooks, else why not.</summary>
    public string? Refusal(Uri url)
    {
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            return "only http and https receivers";
        }

        if (url.UserInfo.Length > 0)
        {
            return "a receiver URL may not carry a user name or password";
        }

        var host = url.IdnHost.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (_allowed.Contains(host))
        {
            return null;
        }

        var singleLabel = !host.Contains('.', StringComparison.Ordinal) && !host.Contains(':', StringComparison.Ordinal) && !IPAddress.TryParse(host, out _);
        if (host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal) || host.EndsWith(".local", StringComparison.Ordinal) || singleLabel)
        {
            return $"'{host}' is not a public host name";
        }

        return IPAddress.TryParse(host, out var address) && Internal(address) ? $"{address} is not a public address" : null;
    }

    /// <summary>Null if the resolved addresses of <paramref name="host"/> may be connected to, else why not.</summary>
    public string? Refusal(string host, IReadOnlyList<IPAddress> addresses)
    {
        var name = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (_allowed.Contains(name))
        {
            return null;
        }

        var inside = addresses.FirstOrDefault(a => Internal(a) && !_allowed.Contains(a.ToString()));
        return addresses.Count == 0 ? $"'{host}' does not resolve" : inside is null ? null : $"'{host}' resolves to {inside}, which is not a public address";
    }

    /// <summary>A connection that resolves the host itself and refuses internal addresses (the
    /// check happens on the addresses actually connected to, so a name cannot change between
    /// check and use).</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        if (Refusal(host, addresses) is { } why)
        {
            throw new DestinationRefusedException(why);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True for every address a webhook must not reach unless allowed.</summary>
    public static bool Internal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] is 0 or 10 or 127 or >= 224 // this network, private, loopback, multicast and reserved
                || (b[0] == 100 && b[1] >= 64 && b[1] < 128) // carrier-grade NAT
                || (b[0] == 169 && b[1] == 254) // link-local
                || (b[0] == 172 && b[1] >= 16 && b[1] < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0) // IETF protocol assignments
                || (b[0] == 198 && b[1] is 18 or 19); // benchmarking
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return true;
        }

        var v6 = address.GetAddressBytes();
        var compatible = v6.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0; // ::a.b.c.d, :: and ::1
        return IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
            || address.IsIPv6Multicast || address.IsIPv6UniqueLocal || compatible
            || (v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b); // NAT64 (64:ff9b::/96) reaches IPv4 inside
    }
}

/// <summary>A webhook's destination resolved to an address it may not reach: no retry can change
/// that (short of the receiver's DNS changing), so the delivery fails at once with this reason.</summary>
public sealed class DestinationRefusedException(string reason) : IOException($"webhook destination refused: {reason}")
{
    /// <summary>The refusal found anywhere in <paramref name="error"/>'s inner exceptions (the
    /// HTTP handler wraps what its connect callback throws), or null.</summary>
    public static DestinationRefusedException? In(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is DestinationRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }
}
