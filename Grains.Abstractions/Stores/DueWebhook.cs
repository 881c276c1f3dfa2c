namespace Actors.Grains.Stores;

/// <summary>A webhook delivery leased to this dispatcher to attempt now.</summary>
public sealed record DueWebhook(string DeliveryId, string JobId, string Url, string Payload, int Attempts);
