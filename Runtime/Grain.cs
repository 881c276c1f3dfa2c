using Actors.Grains;
using Actors.Runtime.Reminders;
using Actors.Runtime.Storage;

namespace Actors.Runtime;

/// <summary>Base of grain implementations. A grain object lives for one turn: the runtime
/// creates it with its state, runs one method, commits, and drops it.</summary>
public abstract class Grain
{
    /// <summary>This grain's key.</summary>
    public string GrainKey { get; internal set; } = "";

    /// <summary>For calling other grains. Those calls are separate turns, outside this one's
    /// transaction; a call cycle back to this grain would wait for itself, so avoid them.</summary>
    public IGrainFactory GrainFactory { get; internal set; } = null!;

    internal GrainId Id { get; set; }

    internal ReminderTable? Reminders { get; set; }

    private List<Action>? _afterCommit;
    private List<StagedWrite>? _staged;

    /// <summary>Runs <paramref name="sql"/> in this turn's commit, in the same transaction as the
    /// state: both land or neither does (a ledger row and the balance it changes).</summary>
    protected void WriteWithState(string sql, object? param) => (_staged ??= []).Add(new StagedWrite(sql, param));

    internal IReadOnlyList<StagedWrite> StagedWrites => _staged ?? [];

    /// <summary>Runs <paramref name="action"/> once this turn's state is committed (not if the
    /// turn fails): for telling others about a change they can then read.</summary>
    protected void AfterCommit(Action action) => (_afterCommit ??= []).Add(action);

    internal void RunAfterCommit()
    {
        foreach (var action in _afterCommit ?? [])
        {
            action();
        }
    }

    /// <summary>A durable reminder: <see cref="IRemindable.ReceiveReminderAsync"/> runs as a turn
    /// after <paramref name="dueIn"/>, then every <paramref name="period"/> (zero: once). The row
    /// is written at once, outside this turn's transaction, so a turn that fails afterwards can
    /// leave it registered: a grain checks its state when the reminder comes.</summary>
    protected Task RegisterOrUpdateReminderAsync(string name, TimeSpan dueIn, TimeSpan period) =>
        RequireReminders().RegisterAsync(Id, name, dueIn, period);

    protected Task UnregisterReminderAsync(string name) => RequireReminders().UnregisterAsync(Id, name);

    private ReminderTable RequireReminders() =>
        Reminders ?? throw new InvalidOperationException("reminders are not configured on this silo (register a ReminderTable)");
}
