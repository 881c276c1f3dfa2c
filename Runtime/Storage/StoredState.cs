namespace Actors.Runtime.Storage;

/// <summary>A grain's state as stored: JSON and a version that grows with every write.</summary>
public sealed record StoredState(string Json, long Version);
