namespace Actors.Fleet.Providers;

/// <summary>The providers this silo can drive, by name. Instance grains look theirs up here; an
/// instance started by hand (no provider) is driven through <see cref="HostProviderName"/>.</summary>
public sealed class InstanceProviders(IEnumerable<IInstanceProvider> providers)
{
    /// <summary>Stops and resumes GPU hosts that were started by hand (no rent or release).</summary>
    public const string HostProviderName = "host";

    private readonly Dictionary<string, IInstanceProvider> _byName = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _byName.Keys;

    public bool Has(string name) => _byName.ContainsKey(name);

    /// <summary>The provider, or a <see cref="ProviderException"/> ("unknown_provider") naming those there are.</summary>
    public IInstanceProvider Get(string name) =>
        _byName.TryGetValue(name, out var provider)
            ? provider
            : throw new ProviderException("unknown_provider", $"no instance provider '{name}' on this silo (there are: {string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal))})");
}
