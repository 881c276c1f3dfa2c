using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.Outboxes;

/// <summary>The Stripe outbox rows tenant grains insert (<see cref="Billing.CreditLedger.ApplyAsync"/>),
/// leased to the dispatcher that sends them and updated with each attempt's outcome.</summary>
public sealed class StripeOutbox(SqlStore store, TimeProvider time) : IStripeOutbox
{
    public Task<IReadOnlyList<StripeCall>> ListAsync(string? tenantId, int limit) =>
        store.ReadAsync<IReadOnlyList<StripeCall>>(async c => (await c.QueryAsync<(string Id, string Tenant, string Path, string Form, string Status, int Attempts, string? Error)>(
            """
            SELECT outbox_id, tenant_id, path, form, status, attempts, last_error FROM stripe_outbox
            WHERE (@Tenant IS NULL OR tenant_id = @Tenant) ORDER BY created_ms DESC LIMIT @Limit
            """, new { Tenant = tenantId, Limit = limit }))
            .Select(r => new StripeCall(r.Id, r.Tenant, r.Path, r.Form, r.Status, r.Attempts, r.Error)).ToList());

    public Task<IReadOnlyList<StripeCall>> ClaimDueAsync(int max, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return store.WriteAsync<IReadOnlyList<StripeCall>>(async c => (await c.QueryAsync<(string Id, string Tenant, string Path, string Form, string Status, int Attempts, string? Error)>(
            $"""
            UPDATE stripe_outbox SET lease_until_ms = @Until
            WHERE outbox_id IN (
                SELECT outbox_id FROM stripe_outbox
                WHERE status = 'pending' AND next_attempt_ms <= @Now AND (lease_until_ms IS NULL OR lease_until_ms < @Now)
                ORDER BY next_attempt_ms LIMIT @Max{store.SkipLocked})
            RETURNING outbox_id, tenant_id, path, form, status, attempts, last_error
            """, new { Until = now + (long)lease.TotalMilliseconds, Now = now, Max = max }))
            .Select(r => new StripeCall(r.Id, r.Tenant, r.Path, r.Form, r.Status, r.Attempts, r.Error)).ToList(), cancellationToken);
    }

    public Task RecordAsync(DeliveryOutcome outcome) =>
        store.WriteAsync(c => c.ExecuteAsync(
            """
            UPDATE stripe_outbox SET status = @Status, attempts = @Attempts, next_attempt_ms = @Next, last_error = @Error,
                sent_ms = CASE WHEN @Status = 'sent' THEN @At ELSE NULL END, lease_until_ms = NULL
            WHERE outbox_id = @Id
            """, new { outcome.Status, outcome.Attempts, Next = outcome.NextAttempt.ToUnixTimeMilliseconds(), outcome.Error, At = outcome.At.ToUnixTimeMilliseconds(), outcome.Id }));
}
