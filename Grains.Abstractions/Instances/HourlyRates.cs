namespace Actors.Grains.Instances;

/// <summary>$ per hour in each state (seed 003: cold $0, warm ~$0.05–0.10, hot/serving $0.20–1.00).</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record HourlyRates(decimal Cold, decimal Warm, decimal Hot, decimal Serving)
{
    public decimal For(InstanceState state) => state switch
    {
        InstanceState.Cold => Cold,
        InstanceState.Warm => Warm,
        InstanceState.Hot => Hot,
        _ => Serving,
    };
}
