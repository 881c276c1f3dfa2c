CREATE TABLE IF NOT EXISTS job_queue (
    job_id       TEXT    PRIMARY KEY,
    model        TEXT    NOT NULL,
    tier         INTEGER NOT NULL,
    enqueued_at  INTEGER NOT NULL,  -- unix milliseconds
    ready_at     INTEGER NOT NULL,  -- enqueued_at minus the tier's boost: the queue order
    state        TEXT    NOT NULL,  -- queued | leased | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    failure      TEXT
);
CREATE INDEX IF NOT EXISTS job_queue_ready ON job_queue (model, ready_at) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS job_queue_leases ON job_queue (lease_until) WHERE state = 'leased';
