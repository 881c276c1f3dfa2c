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

    /// <summary>The registered grain interface whose name is <paramref name="name"/> (a stored
    /// <see cref="Storage.GrainId.Type"/>).</summary>
    internal Type InterfaceNamed(string name) =>
        _implementations.Keys.FirstOrDefault(t => t.Name == name)
            ?? throw new InvalidOperationException($"no grain interface named {name} is registered");

    internal Type Implementation(Type grainInterface) =>
        _implementations.TryGetValue(grainInterface, out var type)
            ? type
            : throw new InvalidOperationException($"no grain class is registered for {grainInterface.Name}");
}
