using System.Net;

namespace Actors.Silo.Tests.Cluster;

/// <summary>Embedded mode is one silo per data folder: a second silo on the same folder is refused
/// at start with a message that says what to do, and the folder is free again once the first
/// process is gone, however it ended.</summary>
public sealed class EmbeddedDataLockTests
{
    [Fact]
    public async Task ASecondSiloOnTheSameDataFolderIsRefusedAndAKilledOneLeavesItFree()
    {
        var data = Directory.CreateTempSubdirectory("actors-lock-").FullName;
        try
        {
            using (var first = await SiloProcess.StartEmbeddedAsync("lock", ("Cluster:DataPath", data)))
            {
                var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartEmbeddedAsync("lock2", ("Cluster:DataPath", data)));
                Assert.Contains("another silo is running on the data folder", refused.Message, StringComparison.Ordinal);
                Assert.Contains("cluster mode", refused.Message, StringComparison.Ordinal);

                // The first one is untouched by the attempt, and so is its store.
                using var live = await first.Http.GetAsync("/health/ready");
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
                first.Kill(); // SIGKILL: the OS drops the lock with the process
            }

            using var after = await SiloProcess.StartEmbeddedAsync("lock3", ("Cluster:DataPath", data));
            using var ready = await after.Http.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
