namespace Actors.Silo.Tests.Jobs;

/// <summary>The GPU host's count of completed runs, read when it has settled: the host counts a
/// run after the job's grain has it (a client may see the job first), so a comparison waits for
/// the count to stay still rather than sampling it once.</summary>
internal static class GpuRunCount
{
    public static async Task<long> SettledAsync(Func<long> read)
    {
        var seen = read();
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(100);
            if (read() == seen && i >= 3)
            {
                break;
            }

            seen = read();
        }

        return seen;
    }
}
