using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Actors.Grains;
using Actors.Grains.Tenants;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Actors.Client.Api.Auth;

/// <summary>Bearer API key → tenant. Verified keys are trusted for a few seconds (keyed by the
/// key's SHA-256, never the key), so a revoked key stops working within that time.</summary>
public sealed class ApiKeyCallers(IGrainFactory grains, IOptions<ClientApiOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (TenantCaller Caller, DateTimeOffset Until)> _verified = new(StringComparer.Ordinal);

    /// <summary>The caller, or a 401 problem.</summary>
    public async Task<(TenantCaller? Caller, IResult? Problem)> AuthenticateAsync(HttpRequest request)
    {
        if (BearerToken(request) is not { } key)
        {
            return (null, Problems.Unauthorized("send 'Authorization: Bearer <api key>'"));
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        var now = time.GetUtcNow();
        if (_verified.TryGetValue(hash, out var hit) && hit.Until > now)
        {
            return (hit.Caller, null);
        }

        if (await ApiKeyAuthenticator.AuthenticateAsync(grains, key) is not { } tenantId)
        {
            return (null, Problems.Unauthorized("the API key is not valid"));
        }

        var tenant = await grains.GetGrain<ITenantGrain>(tenantId).GetAsync();
        var caller = new TenantCaller(tenantId, tenant.Tier);
        _verified[hash] = (caller, now.AddSeconds(options.Value.AuthCacheSeconds));
        return (caller, null);
    }

    /// <summary>Null if the admin key matches; else 401 (none sent) or 403 (another key).</summary>
    public IResult? RequireAdmin(HttpRequest request)
    {
        var expected = options.Value.AdminKey;
        if (BearerToken(request) is not { } key)
        {
            return Problems.Unauthorized("send 'Authorization: Bearer <admin key>'");
        }

        return expected.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(expected))
            ? null
            : Problems.Forbidden("this key may not use /admin");
    }

    /// <summary><see cref="RequireAdmin"/> for pages a browser opens by itself (the Orleans
    /// Dashboard): the admin key as a Bearer token or as the password of HTTP Basic
    /// authentication, which the browser asks the operator for (401 with WWW-Authenticate).</summary>
    public IResult? RequireAdminFromBrowser(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var header = context.Request.Headers.Authorization.ToString();
        string? key = BearerToken(context.Request);
        if (key is null && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                key = pair[(pair.IndexOf(':', StringComparison.Ordinal) + 1)..];
            }
            catch (FormatException)
            {
                key = null;
            }
        }

        var expected = options.Value.AdminKey;
        if (key is not null && expected.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(expected)))
        {
            return null;
        }

        context.Response.Headers.WWWAuthenticate = "Basic realm=\"Orleans Dashboard (user: any, password: the admin key)\", charset=\"UTF-8\"";
        return Problems.Unauthorized("the Orleans Dashboard needs the admin key: as the password of HTTP Basic authentication, or 'Authorization: Bearer <admin key>'");
    }

    internal static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }
}
