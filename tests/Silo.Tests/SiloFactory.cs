using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Actors.Silo.Tests;

/// <summary>The embedded silo (all roles, SQLite in a temp folder) in-process over HTTP, models
/// on INFERENCE_DEVICE (cpu by default). Subclasses change the store or settings.</summary>
public class SiloFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "adm_test_0123456789";

    /// <summary>A request carrying the admin key.</summary>
    public static HttpRequestMessage AdminRequest(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        return request;
    }

    public string DataPath { get; } = Directory.CreateTempSubdirectory("actors-silo-").FullName;

    protected virtual IEnumerable<(string Key, string Value)> Settings() => [];

    /// <summary>The job tests' Free plan: priority low as configured, but without the limits that
    /// would refuse their bursts of jobs (billing tests keep the real plans).</summary>
    protected virtual IEnumerable<(string Key, string Value)> PlanSettings() =>
    [
        ("Billing:Plans:free:RateLimit:Jobs", "100000"),
        ("Billing:Plans:free:ModelRateLimits:diffusion:Jobs", "100000"),
        ("Billing:Plans:free:DailyJobs", "100000"),
        ("Billing:Plans:free:IncludedCredits", "100000"),
    ];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Inference:Device", Environment.GetEnvironmentVariable("INFERENCE_DEVICE") is { Length: > 0 } d ? d : "cpu");
        builder.UseSetting("Api:MaxUploadBytes", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Api:AdminKey", AdminKey);
        builder.UseSetting("Webhooks:AllowedHosts:0", "127.0.0.1"); // the tests' receivers listen on loopback
        builder.UseSetting("Api:ModelsPath", Path.Combine(TestPaths.Repo, "models"));
        builder.UseSetting("Cluster:DataPath", DataPath);
        builder.UseSetting("Cluster:PollMilliseconds", "20");
        foreach (var (key, value) in PlanSettings().Concat(Settings()))
        {
            builder.UseSetting(key, value);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
