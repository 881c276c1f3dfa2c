using Orleans.Concurrency;
using Actors.Grains.Billing;
using Actors.Grains.Jobs;

namespace Actors.Grains.Tenants;

/// <summary>A tenant (key: tenant id): API keys (hashed), plan, admission (quotas, rate limits,
/// credits), the credit ledger's balances and the Stripe subscription. One writer per tenant,
/// cluster-wide, so counters and balances need no other locking. Admission and settlement
/// interleave with every call ([AlwaysInterleave]): each decides in memory in one synchronous
/// step and then waits for the group write that makes it durable, so a hot tenant's calls share
/// writes instead of queueing for one each; the other changes run one at a time.</summary>
public interface ITenantGrain : IGrainWithStringKey, IRemindable
{
    Task<TenantSnapshot> CreateAsync(string name, Tier tier);

    /// <summary>Moves the tenant to the tier's plan (see <see cref="SetPlanAsync"/>).</summary>
    Task<TenantSnapshot> SetTierAsync(Tier tier);

    Task<IssuedApiKey> IssueApiKeyAsync();

    /// <summary>True if the key existed and is now revoked.</summary>
    Task<bool> RevokeApiKeyAsync(string keyId);

    /// <summary>True if <paramref name="key"/> is one of this tenant's live keys.</summary>
    [ReadOnly]
    Task<bool> AuthenticateAsync(string key);

    [ReadOnly]
    Task<TenantSnapshot> GetAsync();

    /// <summary>The secret that signs this tenant's webhooks; null before the tenant exists.</summary>
    [ReadOnly]
    Task<string?> GetWebhookSecretAsync();

    /// <summary>Checks, in order: the plan allows the model, rate limits, daily and period
    /// quotas, credits (reserving the model's price). <paramref name="mayRepeat"/>: the job id
    /// may have been admitted before (an idempotent retry); the ledger is asked.</summary>
    [AlwaysInterleave]
    Task<Admission> AdmitAsync(string jobId, string model, bool mayRepeat);

    /// <summary>Settles (succeeded: charged once, cache hits at the plan's cache price) or
    /// releases (failed, canceled, expired) the reservations of jobs that ended, from the outcomes
    /// their grains committed (sent with the call: the tenant reads no job back). A job that holds
    /// no reservation (finished already) or has not ended changes nothing; returns how many it finished.</summary>
    [AlwaysInterleave]
    Task<int> FinishJobsAsync(IReadOnlyList<JobSnapshot> jobs);

    /// <summary>Changes the plan; the period's included credits become the new plan's.</summary>
    Task<UsageSnapshot> SetPlanAsync(string planId);

    /// <summary>Adds (or, negative, takes back) credits once per <paramref name="grantId"/>.</summary>
    Task<UsageSnapshot> GrantCreditsAsync(string grantId, long credits, string? reason);

    /// <summary>Applies a verified Stripe event once (by event id); returns what it did.</summary>
    Task<string> ApplyStripeAsync(StripeUpdate update);

    /// <summary>Records the tenant's Stripe customer; the first one recorded stays.</summary>
    Task<string> LinkStripeCustomerAsync(string customerId);

    [ReadOnly]
    Task<UsageSnapshot> GetUsageAsync();
}
