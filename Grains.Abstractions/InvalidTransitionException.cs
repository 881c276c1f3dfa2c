namespace Actors.Grains;

/// <summary>A state machine refused a transition: illegal moves are rejected, never ignored.
/// Serializable by Orleans, so a caller on another silo catches this type, not a stand-in.</summary>
[GenerateSerializer]
public sealed class InvalidTransitionException : InvalidOperationException
{
    public InvalidTransitionException(string entity, string from, string to)
        : base($"{entity}: cannot go from {from} to {to}")
    {
        From = from;
        To = to;
    }

    [Id(0)]
    public string From { get; private set; }

    [Id(1)]
    public string To { get; private set; }
}
