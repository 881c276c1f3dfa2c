using System.Diagnostics;
using Actors.Fleet.Tests.Providers;

namespace Actors.Silo.Tests.Clouds;

/// <summary><c>silo providers check</c> against the fakes: the key accepted, the offers listed,
/// nothing rented; a wrong key is exit code 1 with the cloud's refusal and without the key; none
/// enabled is exit code 2.</summary>
public sealed class ProvidersCheckTests
{
    [Fact]
    public async Task ChecksEachEnabledCloudsKeyAndListsItsOffersWithoutRentingAnything()
    {
        using var runpod = new FakeRunPod();
        using var vast = new FakeVast(0.01);
        var (code, output) = await RunAsync(
            "--Providers:RunPod:Enabled=true", $"--Providers:RunPod:BaseUrl={runpod.Root}", $"--Providers:RunPod:ApiKey={runpod.Key}", "--Providers:RunPod:Spot=true",
            "--Providers:Vast:Enabled=true", $"--Providers:Vast:BaseUrl={vast.Root}/api", "--Providers:Vast:ApiKey=wrong-vast-key-123", "--Providers:Vast:EndpointIntervalScale=0.01");

        Assert.Equal(1, code); // Vast refused the key
        Assert.Contains("runpod", output, StringComparison.Ordinal);
        Assert.Contains("key accepted", output, StringComparison.Ordinal);
        Assert.Contains("NVIDIA GeForce RTX 4090", output, StringComparison.Ordinal);
        Assert.Contains("unauthorized", output, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-vast-key-123", output, StringComparison.Ordinal);
        Assert.DoesNotContain(runpod.Key, output, StringComparison.Ordinal);
        Assert.Empty(runpod.Machines);
        Assert.All(runpod.Requests, r => Assert.DoesNotContain("mutation", r, StringComparison.Ordinal)); // read-only
        Assert.Empty(runpod.Refused);

        var (none, said) = await RunAsync();
        Assert.True(none == 2, said);
        Assert.Contains("No cloud enabled", said, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] settings)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(TestPaths.Repo, "Silo", "bin", configuration, "net10.0", "Actors.Silo.dll"));
        foreach (var arg in new[] { "providers", "check" }.Concat(settings))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
