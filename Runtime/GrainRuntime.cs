using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Actors.Grains;
using Actors.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Runtime;

/// <summary>Orleans' programming model on SQL: <c>GetGrain&lt;T&gt;(key)</c> gives a reference;
/// each call is a turn — hold the grain in the store, load its state, run the method, write
/// the state if it was written, commit. A turn that throws writes nothing.</summary>
public sealed class GrainRuntime(IGrainStorage storage, GrainTypeRegistry registry, IServiceProvider services) : IGrainFactory
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<(Type, string), object> _references = new();

    public IGrainStorage Storage => storage;

    internal GrainTypeRegistry Registry => registry;

    public TGrain GetGrain<TGrain>(string key)
        where TGrain : IGrainWithStringKey
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return (TGrain)_references.GetOrAdd((typeof(TGrain), key), static (k, runtime) =>
        {
            var proxy = DispatchProxy.Create<TGrain, GrainReference>();
            var reference = (GrainReference)(object)proxy!;
            reference.Runtime = runtime;
            reference.Interface = typeof(TGrain);
            reference.Id = new GrainId(typeof(TGrain).Name, k.Item2);
            return proxy!;
        }, this);
    }

    internal async Task<T> RunTurnAsync<T>(GrainId id, Type grainInterface, Func<object, Task<T>> call)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var turn = await storage.BeginTurnAsync(id);
        var (grain, state) = Activate(grainInterface, id, turn.Stored);
        var result = await InvokeAsync(grain, call);

        if (state?.Staged is { } json)
        {
            turn.Write(json);
        }

        foreach (var write in grain.StagedWrites)
        {
            turn.Stage(write);
        }

        await turn.CommitAsync();
        Diagnostics.ActorsMetrics.GrainTurn.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("grain_type", id.Type));
        grain.RunAfterCommit();
        return result;
    }

    /// <summary>A [ReadOnly] call: the grain on its last committed state, no hold, no write.</summary>
    internal async Task<T> RunReadOnlyAsync<T>(GrainId id, Type grainInterface, Func<object, Task<T>> call)
    {
        var (grain, state) = Activate(grainInterface, id, await storage.ReadAsync(id));
        var result = await InvokeAsync(grain, call);

        return state?.Staged is null && grain.StagedWrites.Count == 0
            ? result
            : throw new InvalidOperationException($"{grainInterface.Name} wrote its state in a [ReadOnly] call");
    }

    /// <summary>Runs the call, rethrowing the grain's own exception rather than reflection's wrapper.</summary>
    private static async Task<T> InvokeAsync<T>(Grain grain, Func<object, Task<T>> call)
    {
        try
        {
            return await call(grain);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private (Grain Grain, IStagedState? State) Activate(Type grainInterface, GrainId id, StoredState? stored)
    {
        var implementation = registry.Implementation(grainInterface);
        IStagedState? state = null;
        var extra = new List<object>();
        var constructor = implementation.GetConstructors().Single();
        foreach (var parameter in constructor.GetParameters())
        {
            var type = parameter.ParameterType;
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IPersistentState<>))
            {
                var stateType = typeof(PersistentState<>).MakeGenericType(type.GetGenericArguments()[0]);
                state = (IStagedState)Activator.CreateInstance(stateType, stored, Json)!;
                extra.Add(state);
            }
        }

        var grain = (Grain)ActivatorUtilities.CreateInstance(services, implementation, [.. extra]);
        grain.GrainKey = id.Key;
        grain.Id = id;
        grain.GrainFactory = this;
        grain.Reminders = services.GetService(typeof(Reminders.ReminderTable)) as Reminders.ReminderTable;
        return (grain, state);
    }
}
