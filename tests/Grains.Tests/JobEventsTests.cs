using Actors.Grains.Jobs;

namespace Actors.Grains.Tests;

/// <summary>The in-process change signal: a watch completes at the job's next change, every
/// watcher of it is woken, and a watch given back without a change leaves nothing behind (the
/// leak: a waiter that read an already finished job used to leave its entry forever).</summary>
public sealed class JobEventsTests
{
    [Fact]
    public void AWatchGivenBackWithoutAChangeLeavesNothingBehind()
    {
        var events = new JobEvents();
        for (var i = 0; i < 1000; i++)
        {
            using var watch = events.Watch($"job-{i}"); // read the job, found it final, done
        }

        Assert.Equal(0, events.Watched);
    }

    [Fact]
    public async Task EveryWatcherIsWokenByTheChangeAndTheEntryGoesWithTheLastOne()
    {
        var events = new JobEvents();
        var first = events.Watch("job-1");
        var second = events.Watch("job-1");
        Assert.Same(first.Changed, second.Changed);
        first.Dispose();
        Assert.Equal(1, events.Watched); // the second still waits
        first.Dispose(); // twice is once
        Assert.Equal(1, events.Watched);

        events.Publish("job-1");
        await second.Changed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, events.Watched);
        using var later = events.Watch("job-1");
        Assert.False(later.Changed.IsCompleted); // a new watch waits for the next change
        second.Dispose(); // an old hold given back does not remove the new entry
        Assert.Equal(1, events.Watched);
    }
}
