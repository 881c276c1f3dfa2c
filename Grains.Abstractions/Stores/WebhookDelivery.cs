namespace Actors.Grains.Stores;

/// <summary>A webhook delivery as recorded: for operators and tests.</summary>
public sealed record WebhookDelivery(string DeliveryId, string JobId, string Url, string Status, int Attempts, int? LastStatus, string? LastError);
