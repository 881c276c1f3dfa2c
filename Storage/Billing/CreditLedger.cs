using Actors.Grains.Billing;
using Actors.Grains.Stores;
using Actors.Storage.Sql;
using Dapper;

namespace Actors.Storage.Billing;

/// <summary>The credit ledger table and the Stripe tables a tenant writes: the tenant grain's
/// outbox is inserted here (<see cref="ApplyAsync"/>, every row at most once by its key); this
/// reads them back, sums them, and checks a key.</summary>
public sealed class CreditLedger(SqlStore store) : ICreditLedger
{
    private const string InsertSql =
        """
        INSERT INTO credit_ledger (tenant_id, entry_key, kind, included, purchased, overage, job_id, reference, created_ms)
        VALUES (@TenantId, @Key, @Kind, @Included, @Purchased, @Overage, @JobId, @Reference, @Now)
        ON CONFLICT (tenant_id, entry_key) DO NOTHING
        """;

    /// <summary>PostgreSQL: all of an outbox's ledger rows in one statement (one round trip, however
    /// many admissions and settlements one group commit carried), in their order.</summary>
    private const string InsertManySql =
        """
        INSERT INTO credit_ledger (tenant_id, entry_key, kind, included, purchased, overage, job_id, reference, created_ms)
        SELECT @TenantId, u.k, u.kind, u.inc, u.pur, u.ovr, u.job, u.ref, u.at
        FROM unnest(@Keys::text[], @Kinds::text[], @Included::bigint[], @Purchased::bigint[], @Overage::bigint[], @Jobs::text[], @Refs::text[], @Ats::bigint[])
             WITH ORDINALITY AS u(k, kind, inc, pur, ovr, job, ref, at, n)
        ORDER BY u.n
        ON CONFLICT (tenant_id, entry_key) DO NOTHING
        """;

    private const string EventSql =
        """
        INSERT INTO stripe_events (event_id, type, tenant_id, created_s, received_ms, outcome)
        VALUES (@EventId, @Type, @TenantId, @Created, @Now, @Outcome)
        ON CONFLICT (event_id) DO NOTHING
        """;

    private const string CustomerSql =
        "INSERT INTO stripe_customers (customer_id, tenant_id) VALUES (@CustomerId, @TenantId) ON CONFLICT (customer_id) DO NOTHING";

    private const string MeterSql =
        """
        INSERT INTO stripe_outbox (outbox_id, tenant_id, path, form, status, next_attempt_ms, created_ms)
        VALUES (@Id, @TenantId, @Path, @Form, 'pending', @Now, @Now)
        ON CONFLICT (outbox_id) DO NOTHING
        """;

    /// <summary>Inserts a tenant's outbox in one transaction; rows already there (a repeat after a
    /// crash) are left as they are.</summary>
    public Task ApplyAsync(string tenantId, TenantOutbox outbox) =>
        outbox.IsEmpty ? Task.CompletedTask : store.WriteAsync(async c =>
        {
            await using var tx = await c.BeginTransactionAsync();
            if (outbox.Ledger.Count > 1 && store.IsPostgres)
            {
                var lines = outbox.Ledger;
                await c.ExecuteAsync(InsertManySql, new
                {
                    TenantId = tenantId,
                    Keys = lines.Select(l => l.Entry.Key).ToArray(),
                    Kinds = lines.Select(l => l.Entry.Kind).ToArray(),
                    Included = lines.Select(l => l.Entry.Included).ToArray(),
                    Purchased = lines.Select(l => l.Entry.Purchased).ToArray(),
                    Overage = lines.Select(l => l.Entry.Overage).ToArray(),
                    Jobs = lines.Select(l => l.Entry.JobId).ToArray(),
                    Refs = lines.Select(l => l.Entry.Reference).ToArray(),
                    Ats = lines.Select(l => l.AtMs).ToArray(),
                }, tx);
            }
            else if (outbox.Ledger.Count > 0)
            {
                await c.ExecuteAsync(InsertSql, outbox.Ledger.Select(l => new
                {
                    TenantId = tenantId, l.Entry.Key, l.Entry.Kind, l.Entry.Included, l.Entry.Purchased, l.Entry.Overage, l.Entry.JobId, l.Entry.Reference, Now = l.AtMs,
                }), tx);
            }

            if (outbox.Events.Count > 0)
            {
                await c.ExecuteAsync(EventSql, outbox.Events.Select(e => new { e.EventId, e.Type, TenantId = tenantId, e.Created, Now = e.AtMs, e.Outcome }), tx);
            }

            if (outbox.Customers.Count > 0)
            {
                await c.ExecuteAsync(CustomerSql, outbox.Customers.Select(id => new { CustomerId = id, TenantId = tenantId }), tx);
            }

            if (outbox.Meters.Count > 0)
            {
                await c.ExecuteAsync(MeterSql, outbox.Meters.Select(m => new { m.Id, TenantId = tenantId, m.Path, m.Form, Now = m.AtMs }), tx);
            }

            await tx.CommitAsync();
            return true;
        });

    public Task<bool> HasAsync(string tenantId, string key) =>
        store.ReadAsync(async c => await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM credit_ledger WHERE tenant_id = @TenantId AND entry_key = @Key", new { TenantId = tenantId, Key = key }) > 0);

    public Task<bool> EventSeenAsync(string eventId) =>
        store.ReadAsync(async c => await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM stripe_events WHERE event_id = @EventId", new { EventId = eventId }) > 0);

    /// <summary>Records an event no tenant takes (unknown customer): seen once, answered 200.</summary>
    public Task RecordUnclaimedEventAsync(string eventId, string type, long created, long nowMs, string outcome) =>
        store.WriteAsync(c => c.ExecuteAsync(EventSql,
            new { EventId = eventId, Type = type, TenantId = (string?)null, Created = created, Now = nowMs, Outcome = outcome }));

    public async Task<IReadOnlyList<StripeEventRow>> ListEventsAsync(bool attentionOnly, int limit) =>
        (await store.ReadAsync(c => c.QueryAsync<(string, string, string?, long, long, string)>(
            $"""
            SELECT event_id, type, tenant_id, created_s, received_ms, outcome FROM stripe_events
            {(attentionOnly ? "WHERE outcome LIKE 'attention: %' OR (tenant_id IS NULL AND (type LIKE 'checkout.%' OR type LIKE 'invoice.%'))" : "")}
            ORDER BY received_ms DESC, event_id LIMIT @Limit
            """, new { Limit = limit })))
        .Select(r => new StripeEventRow(r.Item1, r.Item2, r.Item3, r.Item4, r.Item5, r.Item6)).ToList();

    public Task<string?> TenantOfCustomerAsync(string customerId) =>
        store.ReadAsync(c => c.QueryFirstOrDefaultAsync<string?>("SELECT tenant_id FROM stripe_customers WHERE customer_id = @CustomerId", new { CustomerId = customerId }));

    /// <summary>The ledger's sums for a tenant: included, purchased, overage.</summary>
    public async Task<LedgerSums> SumAsync(string tenantId)
    {
        var (included, purchased, overage, rows) = await store.ReadAsync(c => c.QuerySingleAsync<(long, long, long, long)>(
            "SELECT COALESCE(SUM(included), 0), COALESCE(SUM(purchased), 0), COALESCE(SUM(overage), 0), COUNT(*) FROM credit_ledger WHERE tenant_id = @TenantId",
            new { TenantId = tenantId }));
        return new LedgerSums(included, purchased, overage, rows);
    }

    public Task<IReadOnlyList<LedgerRow>> ListAsync(string tenantId, int limit) =>
        store.ReadAsync<IReadOnlyList<LedgerRow>>(async c => (await c.QueryAsync<(long Id, string Key, string Kind, long Included, long Purchased, long Overage, string? JobId, string? Reference, long At)>(
            """
            SELECT entry_id, entry_key, kind, included, purchased, overage, job_id, reference, created_ms FROM credit_ledger
            WHERE tenant_id = @TenantId ORDER BY entry_id DESC LIMIT @Limit
            """, new { TenantId = tenantId, Limit = limit }))
            .Select(r => new LedgerRow(r.Id, new LedgerEntry(r.Key, r.Kind, r.Included, r.Purchased, r.Overage, r.JobId, r.Reference), DateTimeOffset.FromUnixTimeMilliseconds(r.At)))
            .ToList());
}
