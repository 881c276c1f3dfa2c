namespace Actors.Silo.Cluster;

/// <summary>Whether a process on this machine has ended. A zombie nobody has reaped counts as
/// ended (kill -0 would still succeed on it).</summary>
internal static class ProcessLiveness
{
    public static bool Ended(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat"); // "pid (name) S …"
            var state = stat.AsSpan(stat.LastIndexOf(')') + 1).TrimStart();
            return state.Length == 0 || state[0] is 'Z' or 'X';
        }
        catch (IOException)
        {
            return true; // no such process
        }
    }
}
