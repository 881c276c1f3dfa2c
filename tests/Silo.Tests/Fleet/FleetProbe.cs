using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Actors.Silo.Tests.Cluster;

namespace Actors.Silo.Tests.Fleet;

/// <summary>What the fleet tests read and wait for through the admin API: the fleet, its HOT
/// instances, one instance's state, a GPU host's status; jobs submitted and finished.</summary>
internal static class FleetProbe
{
    /// <summary>A control silo (api, control) autoscaling real GPU-host processes on <paramref name="database"/>:
    /// seed policy, one to two instances, short heartbeats and ticks.</summary>
    internal static Dictionary<string, string> ControlSilo(string database, string bucket, string provider, string gpuType) => new Dictionary<string, string>(TestDatabases.ClusterOn(database).Select(s => KeyValuePair.Create(s.Key, s.Value)))
    {
        ["Cluster:Store"] = "postgres",
        ["Cluster:ConnectionString"] = database,
        ["Cluster:Roles"] = "api,control",
        ["Cluster:DataPath"] = Directory.CreateTempSubdirectory("actors-silo-").FullName,
        ["Cluster:ProbeSeconds"] = "0.5",
        ["Cluster:MissedProbes"] = "3",
        ["Cluster:PollMilliseconds"] = "50",
        ["Inference:Threads"] = "1",
        ["Fleet:Autoscale"] = "true",
        ["Fleet:Policy"] = "seed",
        ["Fleet:Provider"] = provider,
        ["Fleet:GpuType"] = gpuType,
        ["Fleet:MinHot"] = "1",
        ["Fleet:MaxInstances"] = "2",
        ["Fleet:TickSeconds"] = "0.5",
    }.On(bucket);

    internal static async Task<List<string>> SubmitAsync(ApiClient api, string key, int count, int seed)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var job = await api.SubmitOkAsync(key, new { model = "diffusion", parameters = new { steps = 40, seed = seed + i } });
            ids.Add(job.GetProperty("id").GetString()!);
        }

        return ids;
    }

    internal static async Task<List<JsonElement>> FinishAsync(ApiClient api, string key, List<string> ids)
    {
        var finished = new List<JsonElement>();
        foreach (var id in ids)
        {
            var job = await api.WaitAsync(key, id, seconds: 240);
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            finished.Add(job);
        }

        return finished;
    }

    internal static List<JsonElement> Hot(JsonElement fleet) =>
        [.. fleet.GetProperty("instances").EnumerateArray().Where(i => i.GetProperty("state").GetString() is "HOT" or "SERVING" && i.GetProperty("pending").ValueKind == JsonValueKind.Null)];

    internal static JsonElement Instance(JsonElement fleet, string id) =>
        fleet.GetProperty("instances").EnumerateArray().Single(i => i.GetProperty("id").GetString() == id);

    internal static string? State(JsonElement fleet, string id) =>
        fleet.GetProperty("instances").EnumerateArray().Where(i => i.GetProperty("id").GetString() == id && i.GetProperty("pending").ValueKind == JsonValueKind.Null)
            .Select(i => i.GetProperty("state").GetString()).FirstOrDefault();

    internal static async Task<JsonElement> WaitForAsync(SiloProcess control, Func<JsonElement, bool> condition, string what, int seconds)
    {
        var clock = Stopwatch.StartNew();
        JsonElement fleet = default;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            using var request = SiloFactory.AdminRequest(HttpMethod.Get, "/admin/fleet");
            using var response = await control.Http.SendAsync(request);
            fleet = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && fleet.GetProperty("type").GetString() == "cluster_unavailable")
            {
                // A killed host's silo is not declared dead yet: the API says retry shortly, as a client would.
                await Task.Delay(250);
                continue;
            }

            Assert.True(response.IsSuccessStatusCode, $"GET /admin/fleet answered {(int)response.StatusCode}: {fleet}\n{control.Output}");
            if (condition(fleet))
            {
                return fleet;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"no {what} after {seconds} s:\n{fleet}\n{control.Output}");
    }

    /// <summary>GET /admin/host of the live GPU-host silo serving <paramref name="instanceId"/>.</summary>
    internal static async Task<JsonElement?> HostAsync(SiloProcess control, string instanceId)
    {
        using var request = SiloFactory.AdminRequest(HttpMethod.Get, "/admin/silos");
        var silos = await (await control.Http.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
        var address = silos.EnumerateArray()
            .Where(s => s.GetProperty("gpu").ValueKind == JsonValueKind.String && s.GetProperty("gpu").GetString() == instanceId && s.GetProperty("status").GetString() == "alive")
            .Select(s => s.GetProperty("address").GetString()).FirstOrDefault();
        if (address is null)
        {
            return null;
        }

        using var http = new HttpClient { BaseAddress = new Uri(address) };
        using var host = SiloFactory.AdminRequest(HttpMethod.Get, "/admin/host");
        return await (await http.SendAsync(host)).Content.ReadFromJsonAsync<JsonElement>();
    }
}
