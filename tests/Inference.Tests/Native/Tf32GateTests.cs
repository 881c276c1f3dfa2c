using System.Diagnostics;

namespace Actors.Inference.Tests.Native;

/// <summary>The bridge's TF32 gate (native/torchbridge/tf32_gate.h), which lets CUDA forwards of
/// different TF32 settings take turns at libtorch's process-wide flag. It is plain C++, so its
/// own check (tf32_gate_test, built with the bridge) runs here on any machine: exclusion under
/// eight threads, no starvation, re-entry, an apply that throws.</summary>
public sealed class Tf32GateTests
{
    [Fact]
    public async Task TheGateKeepsSettingsApartLetsBothThroughAndStarvesNeither()
    {
        var program = Locate();
        using var process = Process.Start(new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish in 90 s (a thread stuck in the gate?): {await output}");
        }

        var text = await output + await errors;
        Assert.True(process.ExitCode == 0, $"{program} exited {process.ExitCode}:\n{text}");
        Assert.Contains("tf32 gate: 0 failure(s)", text, StringComparison.Ordinal);
        Assert.Equal(9, text.Split('\n').Count(l => l.StartsWith("ok: ", StringComparison.Ordinal)));
    }

    /// <summary>tf32_gate_test beside the bridge's build: TORCHBRIDGE_PATH's folder (gpu-run), else
    /// build/native of the checkout above the tests.</summary>
    private static string Locate()
    {
        var places = new List<string>();
        if (Environment.GetEnvironmentVariable("TORCHBRIDGE_PATH") is { Length: > 0 } configured)
        {
            places.Add(Directory.Exists(configured) ? configured : Path.GetDirectoryName(configured)!);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            places.Add(Path.Combine(dir.FullName, "build", "native"));
        }

        var found = places.Select(p => Path.Combine(p, "tf32_gate_test")).FirstOrDefault(File.Exists);
        Assert.True(found is not null, "tf32_gate_test not found (scripts/build-bridge builds it) in: " + string.Join(", ", places));
        return found;
    }
}
