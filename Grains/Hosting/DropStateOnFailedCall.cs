using Microsoft.Extensions.Logging;

namespace Actors.Grains.Hosting;

/// <summary>A call on one of our grains that throws may have changed the activation's state in
/// memory without writing it. The activation is dropped, so the next call reads the stored state
/// again: a failed call leaves no change behind, written or not. A refused transition
/// (<see cref="InvalidTransitionException"/>) keeps the activation: it is thrown before any change.</summary>
public sealed partial class DropStateOnFailedCall(ILogger<DropStateOnFailedCall> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await context.Invoke();
        }
        catch (InvalidTransitionException)
        {
            // A decision, not a failure: the lifecycles (JobLifecycle, InstanceLifecycle) are pure
            // and throw before the grain assigns any state, so memory still equals storage.
            throw;
        }
        catch (Exception e) when (context.Grain is Grain grain && grain.GetType().Namespace?.StartsWith("Actors.", StringComparison.Ordinal) == true)
        {
            LogDropped(logger, context.TargetId, context.MethodName, e);
            (grain as IHoldsWaiters)?.ReleaseWaiters();
            grain.DeactivateOnIdle(); // once this call has answered: deactivating mid-call would have Orleans run it again elsewhere
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Grain}.{Method} threw: the activation is dropped and its state read again")]
    private static partial void LogDropped(ILogger logger, GrainId grain, string method, Exception error);
}
