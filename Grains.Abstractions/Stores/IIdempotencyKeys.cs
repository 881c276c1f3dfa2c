namespace Actors.Grains.Stores;

/// <summary>Idempotency-Key → job, per tenant. The first request with a key claims it, so racing
/// requests agree; a later one gets the job and fingerprint the key was first used with.</summary>
public interface IIdempotencyKeys
{
    Task<(string JobId, string Fingerprint)> ClaimAsync(string tenantId, string key, string fingerprint, string newJobId);
}
