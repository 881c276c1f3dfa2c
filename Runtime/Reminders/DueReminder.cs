using Actors.Runtime.Storage;

namespace Actors.Runtime.Reminders;

/// <summary>A reminder claimed for delivery: whose, which, and when it was due.</summary>
public sealed record DueReminder(string ReminderId, GrainId Grain, string Name, long DueMs, long PeriodMs);
