using Actors.Grains;
using Microsoft.Extensions.Logging;

namespace Actors.Runtime.Reminders;

/// <summary>One pass of the control role's reminder loop: claim what is due, deliver each as a
/// turn on its grain (<see cref="IRemindable.ReceiveReminderAsync"/>), record the outcome.</summary>
public sealed partial class ReminderDelivery(ReminderTable table, GrainRuntime runtime, ILogger<ReminderDelivery> logger)
{
    public async Task<int> DeliverDueAsync(string owner, int max = 256, CancellationToken cancellationToken = default)
    {
        var due = await table.ClaimDueAsync(owner, max, TimeSpan.FromSeconds(30), cancellationToken);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (reminder, ct) =>
        {
            Diagnostics.ActorsMetrics.ReminderLag.Record(Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - reminder.DueMs) / 1000.0);
            try
            {
                await runtime.RunTurnAsync<object?>(reminder.Grain, runtime.Registry.InterfaceNamed(reminder.Grain.Type), async grain =>
                {
                    await ((IRemindable)grain).ReceiveReminderAsync(reminder.Name);
                    return null;
                });
                await table.DeliveredAsync(reminder, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogDeliveryFailed(logger, reminder.Name, reminder.Grain.ToString(), e);
                await table.FailedAsync(reminder, TimeSpan.FromSeconds(5), ct);
            }
        });
        return due.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "reminder {Name} of {Grain} failed; retrying in 5 s")]
    private static partial void LogDeliveryFailed(ILogger logger, string name, string grain, Exception error);
}
