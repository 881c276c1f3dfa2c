namespace Actors.Grains;

/// <summary>Marker of every grain interface. Every method returns Task/ValueTask and is a turn.</summary>
#pragma warning disable CA1040 // a marker interface, as in Orleans
public interface IGrain;
#pragma warning restore CA1040
