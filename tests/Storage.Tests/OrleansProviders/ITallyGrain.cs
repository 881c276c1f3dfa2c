using Orleans;

namespace Actors.Storage.Tests.OrleansProviders;

/// <summary>A persistent counter on Orleans, for the storage and cluster tests.</summary>
public interface ITallyGrain : IGrainWithStringKey
{
    Task<int> IncrementAsync();

    Task<int> GetAsync();

    /// <summary>Registers reminder "tick" (due in <paramref name="dueSeconds"/>, then every minute).</summary>
    Task RemindAsync(int dueSeconds);

    /// <summary>How often "tick" has fired (kept in state).</summary>
    Task<int> TicksAsync();

    /// <summary>The silo this activation runs on.</summary>
    Task<string> SiloAsync();
}
