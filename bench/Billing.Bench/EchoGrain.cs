namespace Actors.Billing.Bench;

/// <summary>Orleans' own overhead: the same method as a grain call and as a direct call.</summary>
public interface IEchoGrain : IGrainWithStringKey
{
    Task<long> AddAsync(long a, long b);
}

public sealed class EchoGrain : Grain, IEchoGrain
{
    public Task<long> AddAsync(long a, long b) => Echo.AddAsync(a, b);
}

public static class Echo
{
    public static Task<long> AddAsync(long a, long b) => Task.FromResult(a + b);
}
