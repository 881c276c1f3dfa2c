namespace Actors.Grains.Instances;

/// <summary>$ per hour in each state (seed 003: cold $0, warm ~$0.05–0.10, hot/serving $0.20–1.00).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record HourlyRates([Id(3318051465U)] decimal Cold, [Id(2234549294U)] decimal Warm, [Id(2598436193U)] decimal Hot, [Id(661900617U)] decimal Serving)
{
    public decimal For(InstanceState state) => state switch
    {
        InstanceState.Cold => Cold,
        InstanceState.Warm => Warm,
        InstanceState.Hot => Hot,
        _ => Serving,
    };
}
