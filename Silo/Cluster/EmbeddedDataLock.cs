using Microsoft.Extensions.Options;

namespace Actors.Silo.Cluster;

/// <summary>Embedded mode is one silo per data folder: its SQLite file, blobs and keys belong to
/// one process, which owns every grain (localhost clustering) and serialises its writes in
/// process. A second silo on the same folder would form a cluster of its own over the same rows,
/// so it is refused at start, before the store is touched, naming the folder and the way to run
/// more than one (cluster mode). The lock is the OS's (an exclusive lock on <c>{DataPath}/silo.lock</c>):
/// it goes with the process, however that ends. Cluster mode (PostgreSQL) takes none.</summary>
internal sealed class EmbeddedDataLock(IOptions<ClusterOptions> options) : IHostedService, IDisposable
{
    public const string FileName = "silo.lock";

    private FileStream? _lock;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.IsPostgres)
        {
            return Task.CompletedTask;
        }

        Directory.CreateDirectory(o.DataPath);
        var path = Path.Combine(o.DataPath, FileName);
        try
        {
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"another silo is running on the data folder {o.DataPath} (it holds {path}). Embedded mode runs one silo per folder: " +
                "stop that one, give this one its own --Cluster:DataPath, or run several silos in cluster mode (--Cluster:Store=postgres --Cluster:Redis=…).", e);
        }

        _lock.SetLength(0);
        using (var writer = new StreamWriter(_lock, leaveOpen: true))
        {
            writer.Write(FormattableString.Invariant($"{Environment.ProcessId}\n"));
        }

        _lock.Flush();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _lock?.Dispose();
}
