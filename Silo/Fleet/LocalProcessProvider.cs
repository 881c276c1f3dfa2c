using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Actors.Fleet.Providers;
using Actors.Grains.Instances;
using Actors.Silo.Cluster;
using Microsoft.Extensions.Options;

namespace Actors.Silo.Fleet;

/// <summary>Section "Fleet:Local": what a local instance costs and how long to wait for it.</summary>
public sealed class LocalProviderOptions
{
    public const string Section = "Fleet:Local";

    public string GpuType { get; set; } = "local";

    /// <summary>Prices to account the local instances at (default: seed 000's RTX A4000).</summary>
    public decimal HotPerHour { get; set; } = 0.22m;

    public decimal WarmPerHour { get; set; } = 0.05m;

    /// <summary>Extra command-line settings for every instance (e.g. "--Inference:Threads=1").</summary>
    public string[] ExtraArgs { get; set; } = [];

    /// <summary>A shut-down instance that has not exited after this long is killed.</summary>
    public double ShutdownSeconds { get; set; } = 40;
}

/// <summary>Provider "local": an instance is a GPU-host silo process on this machine. Rent starts
/// the process WARM (up, registered, no models); resume and stop go through its control door
/// (<see cref="HostApi"/>); release shuts it down (it drains and exits). Times are measured: the
/// ETA of each operation is what it last took. The processes share this silo's store, so it must be
/// PostgreSQL (an embedded SQLite file belongs to one process). An instance whose process outlived
/// the control silo that started it (that silo crashed) is adopted, not lost: see <see cref="AdoptAsync"/>.</summary>
internal sealed partial class LocalProcessProvider(IOptions<LocalProviderOptions> options, IOptions<ClusterOptions> cluster, IConfiguration configuration,
    IHostEnvironment environment, HostControlClient hosts, TimeProvider time, ILogger<LocalProcessProvider> logger) : IInstanceProvider, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Child> _children = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ProviderOperation, double> _measured = new();

    public string Name => "local";

    public IReadOnlyList<GpuOffer> PriceList => [new(options.Value.GpuType, options.Value.HotPerHour, options.Value.WarmPerHour, Spot: false)];

    /// <summary>A process stops and starts again; "time to ready" is a process start and a model load.</summary>
    public ProviderCapabilities Capabilities { get; } = ProviderCapabilities.Stoppable(TimeSpan.FromSeconds(10));

    public Task<ProviderTicket> RentAsync(string instanceId, string gpuType, CancellationToken cancellationToken = default)
    {
        if (!cluster.Value.IsPostgres || cluster.Value.Redis.Length == 0)
        {
            throw new ProviderException("unsupported",
                "the local provider's instances are separate silo processes in this cluster: set Cluster:Store=postgres and Cluster:Redis (where silos meet)");
        }

        if (gpuType != options.Value.GpuType)
        {
            throw new ProviderException("unknown_gpu", $"the local provider has GPU type '{options.Value.GpuType}' only, not '{gpuType}'");
        }

        if (_children.TryGetValue(instanceId, out var existing) && !existing.HasExited)
        {
            throw new ProviderException("invalid_state", $"instance '{instanceId}' is already running (process {existing.Process.Id})");
        }

        var port = SiloIdentity.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var logPath = Path.Combine(cluster.Value.DataPath, "instances", $"{instanceId}.log");
        var child = new Child(Start(instanceId, gpuType, url, logPath), url, time.GetUtcNow(), logPath);
        child.Operation = ProviderOperation.Rent;
        _children[instanceId] = child;
        LogRented(logger, instanceId, child.Process.Id, url);
        return Task.FromResult(Ticket(instanceId, ProviderOperation.Rent, 15));
    }

    public async Task<ProviderTicket> ResumeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var child = await RunningAsync(instanceId, cancellationToken);
        var status = await hosts.PostAsync(child.Url, "resume", cancellationToken);
        child.Operation = ProviderOperation.Resume;
        child.OperationStarted = time.GetUtcNow();
        return Ticket(instanceId, ProviderOperation.Resume, status.LoadSeconds ?? 10);
    }

    public async Task<ProviderTicket> StopAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var child = await RunningAsync(instanceId, cancellationToken);
        await hosts.PostAsync(child.Url, "stop", cancellationToken);
        child.Operation = ProviderOperation.Stop;
        child.OperationStarted = time.GetUtcNow();
        return Ticket(instanceId, ProviderOperation.Stop, 10);
    }

    public async Task<ProviderTicket> ReleaseAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var child = _children.TryGetValue(instanceId, out var known) ? known : await AdoptAsync(instanceId, cancellationToken);
        if (child is null)
        {
            return new ProviderTicket(instanceId, ProviderOperation.Release, time.GetUtcNow(), TimeSpan.Zero); // nothing held
        }

        child.Releasing = true;
        child.OperationStarted = time.GetUtcNow();
        if (!child.HasExited)
        {
            try
            {
                await hosts.PostAsync(child.Url, "shutdown", cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or ProviderException or TaskCanceledException)
            {
                child.Process.Kill(entireProcessTree: true); // not answering: end it
            }

            _ = KillIfStillUpAsync(child);
        }

        return Ticket(instanceId, ProviderOperation.Release, 5);
    }

    public async Task<ProviderStatus> StatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var child = _children.TryGetValue(instanceId, out var known) ? known : await AdoptAsync(instanceId, cancellationToken);
        if (child is null)
        {
            return new ProviderStatus(instanceId, ProviderPhase.Cold, InstanceState.Cold, now);
        }

        if (child.HasExited)
        {
            // An adopted process is not our child: its exit code and time are not ours to read.
            var exitedAt = child.Adopted ? now : child.Process.ExitTime.ToUniversalTime();
            return child.Releasing
                ? new ProviderStatus(instanceId, ProviderPhase.Cold, InstanceState.Cold, exitedAt)
                : new ProviderStatus(instanceId, ProviderPhase.Preempted, InstanceState.Cold, exitedAt,
                    $"process {child.Process.Id} exited{(child.Adopted ? "" : $" with code {child.Process.ExitCode}")} (log: {child.LogPath})");
        }

        HostStatus host;
        try
        {
            host = await hosts.GetAsync(child.Url, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ProviderException)
        {
            // Starting up (not listening yet) or shutting down.
            return child.Releasing ? new ProviderStatus(instanceId, ProviderPhase.Releasing, InstanceState.Warm, child.OperationStarted)
                : child.Answered ? new ProviderStatus(instanceId, ProviderPhase.Failed, child.LastSettled, now, $"the GPU host does not answer: {e.Message}")
                : new ProviderStatus(instanceId, ProviderPhase.Renting, InstanceState.Cold, child.Started);
        }

        if (!child.Answered)
        {
            child.Answered = true;
            child.AnsweredAt = now;
            Measure(ProviderOperation.Rent, now - child.Started);
        }

        if (child.Releasing)
        {
            return new ProviderStatus(instanceId, ProviderPhase.Releasing, InstanceState.Warm, child.OperationStarted);
        }

        // Ready (WARM) means reachable: not before the host first answered.
        var status = HostControlProvider.Map(instanceId, host);
        if (status.Since < child.AnsweredAt)
        {
            status = status with { Since = child.AnsweredAt };
        }
        if (!status.InFlight && status.Phase != ProviderPhase.Failed)
        {
            child.LastSettled = status.Settled;
            if (child.Operation is { } op)
            {
                Measure(op, now - child.OperationStarted);
                child.Operation = null;
            }
        }

        return status;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var child in _children.Values.Where(c => !c.HasExited))
        {
            child.Releasing = true;
            try
            {
                await hosts.PostAsync(child.Url, "shutdown", CancellationToken.None);
            }
            catch (Exception e) when (e is HttpRequestException or ProviderException or TaskCanceledException)
            {
                child.Process.Kill(entireProcessTree: true);
            }
        }

        foreach (var child in _children.Values)
        {
            if (!await ExitedWithinAsync(child, TimeSpan.FromSeconds(options.Value.ShutdownSeconds)))
            {
                child.Process.Kill(entireProcessTree: true);
            }

            child.Dispose();
        }
    }

    private Process Start(string instanceId, string gpuType, string url, string logPath)
    {
        var entry = typeof(Program).Assembly.Location;
        var host = Environment.ProcessPath ?? "dotnet";
        var viaDotnet = Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = environment.ContentRootPath,
        };
        if (viaDotnet)
        {
            start.ArgumentList.Add(entry);
        }

        foreach (var arg in new[]
        {
            "--urls", url, "--contentRoot", environment.ContentRootPath,
            "--Cluster:Roles=gpu", $"--Cluster:InstanceId={instanceId}", "--Cluster:StartWarm=true", $"--Cluster:GpuType={gpuType}",
            $"--Cluster:DataPath={cluster.Value.DataPath}",
        }.Concat(options.Value.ExtraArgs))
        {
            start.ArgumentList.Add(arg);
        }

        // This silo's settings travel as environment variables (not on the command line, where
        // the admin key and connection string would show in `ps`).
        foreach (var (key, value) in GpuHostSettings.From(configuration))
        {
            start.Environment[key] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new ProviderException("failed", $"could not start {host}");
        process.EnableRaisingEvents = true;
        var gate = new Lock();
        void Write(string? line)
        {
            if (line is not null)
            {
                lock (gate)
                {
                    log.WriteLine(line);
                }
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.Exited += (_, _) =>
        {
            lock (gate)
            {
                log.Dispose();
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task KillIfStillUpAsync(Child child)
    {
        if (!await ExitedWithinAsync(child, TimeSpan.FromSeconds(options.Value.ShutdownSeconds)))
        {
            child.Process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Waits for the process to end (polled: an adopted process is not our child, so
    /// there is no exit notification for it).</summary>
    private static async Task<bool> ExitedWithinAsync(Child child, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!child.HasExited)
        {
            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }

    private async Task<Child> RunningAsync(string instanceId, CancellationToken cancellationToken)
    {
        var child = _children.TryGetValue(instanceId, out var known) ? known : await AdoptAsync(instanceId, cancellationToken);
        return child is { Releasing: false } && !child.HasExited
            ? child
            : throw new ProviderException("invalid_state", $"instance '{instanceId}' has no running process here");
    }

    /// <summary>An instance this silo did not start but whose GPU-host process is alive — the
    /// control silo that rented it crashed and the process lived on — is taken over rather than
    /// marked lost (which would leave it running, unaccounted, and rent another): found through the
    /// membership table (a live GPU silo serving the instance), it is then controlled through its
    /// door and ended by its process id like our own. Its output went to the silo that started it,
    /// so it has no log here. Null when there is no such process on this machine.</summary>
    private async Task<Child?> AdoptAsync(string instanceId, CancellationToken cancellationToken)
    {
        var url = await hosts.FindAsync(instanceId, cancellationToken);
        if (string.IsNullOrEmpty(url))
        {
            return null; // none, or this silo's own GPU host (provider "host")
        }

        HostStatus status;
        try
        {
            status = await hosts.GetAsync(url, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ProviderException)
        {
            return null;
        }

        Process process;
        try
        {
            process = Process.GetProcessById(status.ProcessId);
        }
        catch (ArgumentException)
        {
            return null; // not on this machine
        }

        if (status.InstanceId != instanceId || !IsSilo(process))
        {
            process.Dispose();
            return null;
        }

        var now = time.GetUtcNow();
        var child = new Child(process, url, now, "none here: it logged to the silo that started it")
        {
            Adopted = true, Answered = true, AnsweredAt = now, LastSettled = HostControlProvider.Map(instanceId, status).Settled,
        };
        var held = _children.GetOrAdd(instanceId, child);
        if (ReferenceEquals(held, child))
        {
            LogAdopted(logger, instanceId, process.Id, url);
        }
        else
        {
            child.Dispose();
        }

        return held;
    }

    private static bool IsSilo(Process process)
    {
        try
        {
            return !process.HasExited && process.ProcessName is "dotnet" or "Actors.Silo";
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private void Measure(ProviderOperation operation, TimeSpan took) =>
        _measured.AddOrUpdate(operation, took.TotalSeconds, (_, before) => (before * 0.7) + (took.TotalSeconds * 0.3));

    private ProviderTicket Ticket(string instanceId, ProviderOperation operation, double defaultSeconds) =>
        new(instanceId, operation, time.GetUtcNow(), TimeSpan.FromSeconds(_measured.TryGetValue(operation, out var s) ? s : defaultSeconds));

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {InstanceId}: started GPU-host process {Pid} on {Url}")]
    private static partial void LogRented(ILogger logger, string instanceId, int pid, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {InstanceId}: adopted GPU-host process {Pid} on {Url} (its control silo is gone)")]
    private static partial void LogAdopted(ILogger logger, string instanceId, int pid, string url);

    private sealed class Child(Process process, string url, DateTimeOffset started, string logPath) : IDisposable
    {
        public Process Process { get; } = process;

        public string Url { get; } = url;

        public DateTimeOffset Started { get; } = started;

        public string LogPath { get; } = logPath;

        public bool Answered { get; set; }

        /// <summary>Started by another (crashed) silo and taken over: not our child process.</summary>
        public bool Adopted { get; init; }

        /// <summary>Ended. An adopted process is not ours to reap: once it ends it may linger as a
        /// zombie until whoever inherited it waits for it, and that counts as ended too.</summary>
        public bool HasExited => Process.HasExited || (Adopted && ProcessLiveness.Ended(Process.Id));

        public DateTimeOffset AnsweredAt { get; set; }

        public bool Releasing { get; set; }

        public ProviderOperation? Operation { get; set; }

        public DateTimeOffset OperationStarted { get; set; } = started;

        public InstanceState LastSettled { get; set; } = InstanceState.Warm;

        public void Dispose() => Process.Dispose();
    }
}
