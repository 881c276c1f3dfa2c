namespace Actors.Grains.Instances;

/// <summary>A provider operation in flight: "rent", "launch" (a rent on a provider that cannot
/// stop: the machine comes up running, never WARM), "resume", "stop" or "release", when it
/// started, when the provider expected it done, and which try this is.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record PendingOperation([Id(4154824493U)] string Operation, [Id(1962871053U)] DateTimeOffset StartedAt, [Id(1417986988U)] DateTimeOffset ExpectedAt, [Id(1701381882U)] int Attempt, [Id(441862051U)] string Reason)
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
