using System.Collections.Concurrent;
using Actors.Grains;

namespace Actors.Runtime;

/// <summary>Which class implements which grain interface (explicit, like Orleans' generated
/// maps): <c>registry.Add&lt;ICounterGrain, CounterGrain&gt;()</c>.</summary>
public sealed class GrainTypeRegistry
{
    private readonly ConcurrentDictionary<Type, Type> _implementations = new();

    public GrainTypeRegistry Add<TInterface, TGrain>()
        where TInterface : IGrainWithStringKey
        where TGrain : Grain, TInterface
    {
        _implementations[typeof(TInterface)] = typeof(TGrain);
        return this;
    }

    internal Type Implementation(Type grainInterface) =>
        _implementations.TryGetValue(grainInterface, out var type)
            ? type
            : throw new InvalidOperationException($"no grain class is registered for {grainInterface.Name}");
}
