-- Times in these tables are unix milliseconds (INTEGER), written from the silo's TimeProvider,
-- so the same SQL runs on both stores.
CREATE TABLE IF NOT EXISTS reminders (
    reminder_id    TEXT   PRIMARY KEY,  -- grain_type/grain_key/name
    grain_type     TEXT   NOT NULL,
    grain_key      TEXT   NOT NULL,
    name           TEXT   NOT NULL,
    due_ms         INTEGER NOT NULL,
    period_ms      INTEGER NOT NULL,     -- 0: fires once
    lease_owner    TEXT,
    lease_until_ms INTEGER
);
CREATE INDEX IF NOT EXISTS reminders_due ON reminders (due_ms);
CREATE TABLE IF NOT EXISTS blobs (
    hash         TEXT   PRIMARY KEY,    -- SHA-256, hex
    size         INTEGER NOT NULL,
    content_type TEXT   NOT NULL,
    created_ms   INTEGER NOT NULL,
    last_used_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS result_cache (
    cache_key    TEXT   PRIMARY KEY,    -- SHA-256 of model, version, parameters, input hash
    model        TEXT   NOT NULL,
    result_json  TEXT   NOT NULL,
    created_ms   INTEGER NOT NULL,
    last_used_ms INTEGER NOT NULL,
    hits         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    tenant_id  TEXT   NOT NULL,
    idem_key   TEXT   NOT NULL,
    body_hash  TEXT   NOT NULL,
    job_id     TEXT   NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id     TEXT   PRIMARY KEY,
    tenant_id  TEXT   NOT NULL,
    model      TEXT   NOT NULL,
    tier       INTEGER    NOT NULL,
    status     TEXT   NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_tenant ON jobs (tenant_id, created_ms);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_ms);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    delivery_id     TEXT   PRIMARY KEY,  -- job id + event: one delivery per event, however often it is asked for
    job_id          TEXT   NOT NULL,
    url             TEXT   NOT NULL,
    payload         TEXT   NOT NULL,
    status          TEXT   NOT NULL,     -- pending | delivered | failed
    attempts        INTEGER    NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_ms      INTEGER NOT NULL,
    delivered_ms    INTEGER,
    lease_until_ms  INTEGER
);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_deliveries (next_attempt_ms) WHERE status = 'pending';
ALTER TABLE job_queue ADD COLUMN cache_key TEXT;
