namespace Actors.Grains;

/// <summary>A grain addressed by a string key (tenant id, job id, instance id).</summary>
#pragma warning disable CA1040
public interface IGrainWithStringKey : IGrain;
#pragma warning restore CA1040
