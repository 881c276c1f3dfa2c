using Actors.Fleet.Providers.Cloud;

namespace Actors.Client.Api.Admin;

/// <summary>The GPU clouds as operators see them (<c>/admin/fleet</c>'s <c>clouds</c>): what each
/// provider can do, its offers, its last reconciliation, and the machines found lost. No key.</summary>
public interface ICloudsView
{
    IReadOnlyList<CloudView> Clouds();

    IReadOnlyList<CloudLoss> Lost();

    /// <summary>The last orphans reconciliation terminated (each pass's report shows only its own).</summary>
    IReadOnlyList<CloudOrphan> OrphansTerminated();
}

public sealed record CloudView(string Provider, string Cloud, bool CanStop, bool Spot, bool StoppedBillsStorage, double TypicalSecondsToReady, decimal? MaxPerHour,
    int Offers, decimal? CheapestPerHour, string? OffersError, ReconcileReport? LastReconcile);

public sealed record CloudLoss(DateTimeOffset At, string Provider, string InstanceId, string Reason);

public sealed record CloudOrphan(DateTimeOffset At, string Cloud, string Machine);
