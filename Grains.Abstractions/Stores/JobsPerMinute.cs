namespace Actors.Grains.Stores;

/// <summary>One minute of traffic.</summary>
public sealed record JobsPerMinute(DateTimeOffset Minute, long Submitted, long Succeeded, long Failed);
