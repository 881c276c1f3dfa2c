namespace Actors.Storage.Queue;

/// <summary>SQL that reads the same in PostgreSQL and SQLite, with the dialect's parameter name.</summary>
internal static class QueueSql
{
    /// <summary>Lapsed leases back to the queue (keeping their place), or failed once their
    /// attempts are spent, with the reason.</summary>
    public static string RecoverLapsed(string now) =>
        $"""
        UPDATE job_queue SET
            state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
            failure = CASE WHEN attempts >= max_attempts
                THEN 'lease lapsed on attempt ' || attempts || ' of ' || max_attempts || ' (host ' || lease_owner || ')'
                ELSE failure END,
            lease_owner = NULL, lease_until = NULL
        WHERE state = 'leased' AND lease_until < {now}
        RETURNING job_id, attempts, state, failure
        """;
}
