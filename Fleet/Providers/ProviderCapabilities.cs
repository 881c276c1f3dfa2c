namespace Actors.Fleet.Providers;

/// <summary>What a provider's machines can do, declared by the provider so the instance grain, the
/// pool policies and the simulator need not guess: whether a machine can be stopped and resumed
/// (Lambda: no — a machine is running and billed, or gone), whether it sells spot, what a stopped
/// machine still bills (its disk), and how long a machine typically takes from rent to running.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record ProviderCapabilities([Id(2437986617U)] bool CanStop, [Id(2193813414U)] bool Spot, [Id(3793361583U)] bool StoppedBillsStorage, [Id(1703185106U)] TimeSpan TypicalTimeToReady)
{
    /// <summary>A rent gives a running machine (a cloud: create starts it), so the instance goes
    /// COLD → HOT once its silo has joined; it is WARM only after a stop.</summary>
    [Id(2707064309U)]
    public bool RentsRunning { get; init; }

    /// <summary>The local and simulated providers' shape: stop and resume, storage billed while stopped.</summary>
    public static ProviderCapabilities Stoppable(TimeSpan typicalTimeToReady, bool spot = false) => new(true, spot, true, typicalTimeToReady);
}
