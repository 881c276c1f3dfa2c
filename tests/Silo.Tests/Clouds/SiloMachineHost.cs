using System.Collections.Concurrent;
using Actors.Fleet.Tests.Providers;
using Actors.Silo.Tests.Cluster;

namespace Actors.Silo.Tests.Clouds;

/// <summary>What our image does on a rented machine, done on this one: a fake cloud's machine that
/// comes up starts a real GPU-host silo process with the environment its launch passed (plus what
/// docker/gpu-silo.Dockerfile sets: a data folder, CPU here); one that stops or goes away gets
/// SIGTERM (then SIGKILL after 5 s), a preempted one SIGKILL at once. Start failures are kept for the test to print.</summary>
public sealed class SiloMachineHost : IFakeMachineHost, IDisposable
{
    private readonly ConcurrentDictionary<string, Task<SiloProcess?>> _running = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Failures { get; } = new();

    /// <summary>Machine id → GPU-host processes it ran (one per time it came up).</summary>
    public ConcurrentDictionary<string, int> Started { get; } = new(StringComparer.Ordinal);

    /// <summary>Seconds from a machine's process start to its silo ready, per start (the baseline
    /// a rent's time to HOT is compared with: what the cloud adapter adds on top).</summary>
    public ConcurrentQueue<double> ReadySeconds { get; } = new();

    public void Start(FakeMachine machine)
    {
        Started.AddOrUpdate(machine.Id, 1, (_, n) => n + 1);
        var settings = machine.Environment.ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value, StringComparer.Ordinal);
        settings["Cluster:DataPath"] = Directory.CreateTempSubdirectory("actors-machine-").FullName;
        settings["Inference:Threads"] = "1";
        _running[machine.Id] = Task.Run(async () =>
        {
            try
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var silo = await SiloProcess.StartAsync(settings);
                ReadySeconds.Enqueue(clock.Elapsed.TotalSeconds);
                return silo;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                Failures.Enqueue($"machine {machine.Name}: {e.Message}");
                return null;
            }
        });
    }

    public void Halt(FakeMachine machine)
    {
        if (_running.TryRemove(machine.Id, out var starting))
        {
            _ = Task.Run(async () =>
            {
                using var silo = await starting;
                if (machine.Preempted)
                {
                    silo?.Kill(); // the market takes it back: no drain (the harsh case)
                }
                else
                {
                    silo?.Terminate(TimeSpan.FromSeconds(5));
                }
            });
        }
    }

    public void Dispose()
    {
        foreach (var starting in _running.Values)
        {
            using var silo = starting.GetAwaiter().GetResult();
            silo?.Kill();
        }
    }
}
