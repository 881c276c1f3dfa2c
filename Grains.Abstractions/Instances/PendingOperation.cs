namespace Actors.Grains.Instances;

/// <summary>A provider operation in flight: "rent", "launch" (a rent on a provider that cannot
/// stop: the machine comes up running, never WARM), "resume", "stop" or "release", when it
/// started, when the provider expected it done, and which try this is.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record PendingOperation(string Operation, DateTimeOffset StartedAt, DateTimeOffset ExpectedAt, int Attempt, string Reason)
{
    /// <summary>The lifecycle state the operation takes the instance to.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public InstanceState Target => Operation switch
    {
        "rent" => InstanceState.Warm,
        "launch" => InstanceState.Hot,
        "resume" => InstanceState.Hot,
        "stop" => InstanceState.Warm,
        _ => InstanceState.Cold,
    };
}
