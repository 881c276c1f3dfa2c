using System.Collections.Concurrent;
using System.Reflection;

namespace Actors.Runtime;

/// <summary>The object <c>GetGrain</c> returns: every interface call becomes a turn on the runtime.</summary>
#pragma warning disable CA1852 // DispatchProxy needs a non-sealed class
internal class GrainReference : DispatchProxy
#pragma warning restore CA1852
{
    private static readonly ConcurrentDictionary<MethodInfo, Func<GrainReference, MethodInfo, object?[], object>> Invokers = new();

    internal GrainRuntime Runtime { get; set; } = null!;

    internal Storage.GrainId Id { get; set; }

    internal Type Interface { get; set; } = null!;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        return Invokers.GetOrAdd(targetMethod, Build)(this, targetMethod, args ?? []);
    }

    private static Func<GrainReference, MethodInfo, object?[], object> Build(MethodInfo method)
    {
        var type = method.ReturnType;
        if (type == typeof(Task))
        {
            return (r, m, a) => r.Runtime.RunTurnAsync<object?>(r.Id, r.Interface, async g =>
            {
                await (Task)m.Invoke(g, a)!;
                return null;
            });
        }

        var readOnly = method.IsDefined(typeof(Grains.ReadOnlyAttribute), inherit: false);
        if (readOnly && type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var typedReadOnly = typeof(GrainReference).GetMethod(nameof(InvokeReadOnly), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(type.GetGenericArguments()[0]);
            return (r, m, a) => typedReadOnly.Invoke(null, [r, m, a])!;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var typed = typeof(GrainReference).GetMethod(nameof(InvokeTyped), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(type.GetGenericArguments()[0]);
            return (r, m, a) => typed.Invoke(null, [r, m, a])!;
        }

        throw new NotSupportedException($"grain method {method.DeclaringType?.Name}.{method.Name} must return Task or Task<T>");
    }

    private static Task<T> InvokeReadOnly<T>(GrainReference r, MethodInfo m, object?[] a) =>
        r.Runtime.RunReadOnlyAsync(r.Id, r.Interface, g => (Task<T>)m.Invoke(g, a)!);

    private static Task<T> InvokeTyped<T>(GrainReference r, MethodInfo m, object?[] a) =>
        r.Runtime.RunTurnAsync(r.Id, r.Interface, g => (Task<T>)m.Invoke(g, a)!);
}
