namespace Actors.Grains;

/// <summary>A grain that receives durable reminders (as Orleans' <c>IRemindable</c>). Delivery
/// is at least once: a reminder can arrive again after a crash, so the grain checks its state.</summary>
public interface IRemindable
{
    Task ReceiveReminderAsync(string name);
}
