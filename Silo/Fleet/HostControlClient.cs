using System.Net.Http.Json;
using Actors.Client.Api;
using Actors.Fleet.Providers;
using Actors.Silo.Cluster;
using Actors.Silo.Gpu;
using Actors.Silo.Inference;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Fleet;

/// <summary>Talks to GPU hosts' control doors (<see cref="HostApi"/>): in process when the host is
/// this silo, over HTTP (admin key) otherwise.</summary>
internal sealed class HostControlClient(ClusterMembers members, SiloIdentity silo, IOptions<ClientApiOptions> api, IServiceProvider services) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The base address of the live silo serving <paramref name="instanceId"/>: "" for this
    /// process, null when none is alive.</summary>
    public async Task<string?> FindAsync(string instanceId, CancellationToken cancellationToken) =>
        silo.InstanceId == instanceId && services.GetService<GpuHost>() is not null ? "" : await members.HttpOfAsync(instanceId, cancellationToken);

    public async Task<HostStatus> GetAsync(string baseUrl, CancellationToken cancellationToken)
    {
        if (baseUrl.Length == 0)
        {
            return Local();
        }

        using var request = Request(HttpMethod.Get, baseUrl, "");
        using var response = await _http.SendAsync(request, cancellationToken);
        return await Read(response, cancellationToken);
    }

    /// <summary>POST /admin/host/{action}: resume, stop or shutdown.</summary>
    public async Task<HostStatus> PostAsync(string baseUrl, string action, CancellationToken cancellationToken)
    {
        if (baseUrl.Length == 0)
        {
            var host = services.GetRequiredService<GpuHost>();
            _ = action switch
            {
                "resume" => host.BeginResume(),
                "stop" => host.BeginStop(),
                _ => throw new ProviderException("invalid_state", "this silo cannot shut itself down through its provider"),
            };
            return Local();
        }

        using var request = Request(HttpMethod.Post, baseUrl, "/" + action);
        using var response = await _http.SendAsync(request, cancellationToken);
        return await Read(response, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    private HostStatus Local() =>
        HostApi.Status(services.GetRequiredService<GpuHost>(), services.GetRequiredService<EngineHost>(), silo);

    private HttpRequestMessage Request(HttpMethod method, string baseUrl, string path)
    {
        var request = new HttpRequestMessage(method, $"{baseUrl.TrimEnd('/')}/admin/host{path}");
        request.Headers.Authorization = new("Bearer", api.Value.AdminKey);
        return request;
    }

    private static async Task<HostStatus> Read(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new ProviderException("failed", $"GPU host answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return await response.Content.ReadFromJsonAsync<HostStatus>(cancellationToken) ?? throw new ProviderException("failed", "GPU host sent no status");
    }
}
