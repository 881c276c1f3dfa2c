CREATE TABLE IF NOT EXISTS job_queue (
    job_id       text        PRIMARY KEY,
    model        text        NOT NULL,
    tier         int         NOT NULL,
    enqueued_at  timestamptz NOT NULL,
    ready_at     timestamptz NOT NULL,  -- enqueued_at minus the tier's boost: the queue order
    state        text        NOT NULL,  -- queued | leased | failed
    attempts     int         NOT NULL DEFAULT 0,
    max_attempts int         NOT NULL,
    lease_owner  text,
    lease_until  timestamptz,
    failure      text
);
CREATE INDEX IF NOT EXISTS job_queue_ready ON job_queue (model, ready_at) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS job_queue_leases ON job_queue (lease_until) WHERE state = 'leased';
