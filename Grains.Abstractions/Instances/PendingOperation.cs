namespace Actors.Grains.Instances;

/// <summary>A provider operation in flight: "rent", "resume", "stop" or "release", when it
/// started, when the provider expected it done, and which try this is.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record PendingOperation(string Operation, DateTimeOffset StartedAt, DateTimeOffset ExpectedAt, int Attempt, string Reason)
{
    /// <summary>The lifecycle state the operation takes the instance to.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public InstanceState Target => Operation switch
    {
        "rent" => InstanceState.Warm,
        "resume" => InstanceState.Hot,
        "stop" => InstanceState.Warm,
        _ => InstanceState.Cold,
    };
}
