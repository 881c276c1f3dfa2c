using Actors.Runtime.Membership;

namespace Actors.Runtime.Tests.Membership;

public abstract class MembershipConformance
{
    protected ManualTime Time { get; } = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));

    protected abstract Task<IMembershipTable> NewTableAsync();

    private static string Id() => "silo-" + Guid.NewGuid().ToString("N")[..8];

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ASiloThatKeepsBeatingStaysAlive()
    {
        var table = await NewTableAsync();
        var id = Id();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(await table.HeartbeatAsync(id, "127.0.0.1:1", "gpu", "H100"));
            Time.Advance(TimeSpan.FromSeconds(5));
            Assert.DoesNotContain(id, (await table.DeclareDeadAsync(Timeout)).Select(s => s.SiloId));
        }

        Assert.Equal("alive", (await table.ListAsync()).Single(s => s.SiloId == id).Status);
    }

    [Fact]
    public async Task ASilentSiloIsDeclaredDeadOnceAndCannotComeBack()
    {
        var table = await NewTableAsync();
        var id = Id();
        await table.HeartbeatAsync(id, "127.0.0.1:2", "gpu", null);
        Time.Advance(Timeout + TimeSpan.FromSeconds(1));

        var others = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => NewTableAsync()));
        var declared = await Task.WhenAll(others.Select(t => t.DeclareDeadAsync(Timeout)));

        Assert.Equal(1, declared.Count(d => d.Any(s => s.SiloId == id)));
        Assert.False(await table.HeartbeatAsync(id, "127.0.0.1:2", "gpu", null), "a dead silo must rejoin under a new id");
        Assert.Equal("dead", (await table.ListAsync()).Single(s => s.SiloId == id).Status);
    }

    [Fact]
    public async Task ASiloThatLeftIsNeverReportedDead()
    {
        var table = await NewTableAsync();
        var id = Id();
        await table.HeartbeatAsync(id, "127.0.0.1:3", "api,control", null);
        await table.LeaveAsync(id);
        Time.Advance(TimeSpan.FromMinutes(5));

        Assert.DoesNotContain(id, (await table.DeclareDeadAsync(Timeout)).Select(s => s.SiloId));
        Assert.Equal("left", (await table.ListAsync()).Single(s => s.SiloId == id).Status);
    }
}
