namespace Actors.Grains.Jobs;

/// <summary>Queued → Running → Succeeded | Failed | Canceled | Expired; Running → Queued when
/// its instance dies and attempts remain.</summary>
public enum JobStatus
{
    New,
    Queued,
    Running,
    Succeeded,
    Failed,
    Canceled,
    Expired,
}
