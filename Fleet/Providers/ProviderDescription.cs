namespace Actors.Fleet.Providers;

/// <summary>A provider as an instance grain learns it from the control plane: its price list and
/// what its machines can do.</summary>
[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties), Immutable]
public sealed record ProviderDescription([Id(1238695126U)] IReadOnlyList<GpuOffer> PriceList, [Id(1050130058U)] ProviderCapabilities Capabilities);
