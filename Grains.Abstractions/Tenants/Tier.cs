namespace Actors.Grains.Tenants;

/// <summary>Seed 003's tiers; the number is the queue priority (higher goes first, with aging).</summary>
public enum Tier
{
    Free = 0,
    Premium = 1,
    Pro = 2,
    Enterprise = 3,
}
