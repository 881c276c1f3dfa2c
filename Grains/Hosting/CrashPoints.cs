using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace Actors.Grains.Hosting;

/// <summary>The <c>Faults</c> section: where a crash test kills the process. Empty (the default)
/// in every real configuration.</summary>
public sealed class FaultOptions
{
    public const string Section = "Faults";

    /// <summary>Comma-separated <see cref="CrashPoints"/> names; the process kills itself (SIGKILL,
    /// as <c>kill -9</c> would) the first time it reaches one.</summary>
    public string KillAt { get; set; } = "";
}

/// <summary>Named places in a job's path where a crash is the hardest to recover from, so a test
/// on real processes can kill a silo exactly there instead of hoping a random kill lands in the
/// window. Reaching a point that is not configured costs one field read.</summary>
public sealed class CrashPoints(IOptions<FaultOptions> options)
{
    /// <summary>A job's ended state (and its webhook row) committed; its settlement call not yet made.</summary>
    public const string JobEnded = "job-ended";

    private readonly string[] _armed = options.Value.KillAt.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void Reached(string point, string subject)
    {
        if (_armed.Length > 0 && _armed.Contains(point, StringComparer.Ordinal))
        {
            Console.Error.WriteLine($"crash point {point} reached at {subject}: killing process {Environment.ProcessId}");
            Process.GetCurrentProcess().Kill(); // SIGKILL: no shutdown, no flush, no finally blocks
        }
    }
}
