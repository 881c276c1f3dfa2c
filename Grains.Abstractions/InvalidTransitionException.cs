namespace Actors.Grains;

/// <summary>A state machine refused a transition: illegal moves are rejected, never ignored.</summary>
public sealed class InvalidTransitionException(string entity, string from, string to)
    : InvalidOperationException($"{entity}: cannot go from {from} to {to}")
{
    public string From { get; } = from;

    public string To { get; } = to;
}
