-- Times in these tables are unix milliseconds (bigint), written from the silo's TimeProvider,
-- so the same SQL runs on both stores.
CREATE TABLE IF NOT EXISTS reminders (
    reminder_id    text   PRIMARY KEY,  -- grain_type/grain_key/name
    grain_type     text   NOT NULL,
    grain_key      text   NOT NULL,
    name           text   NOT NULL,
    due_ms         bigint NOT NULL,
    period_ms      bigint NOT NULL,     -- 0: fires once
    lease_owner    text,
    lease_until_ms bigint
);
CREATE INDEX IF NOT EXISTS reminders_due ON reminders (due_ms);
CREATE TABLE IF NOT EXISTS blobs (
    hash         text   PRIMARY KEY,    -- SHA-256, hex
    size         bigint NOT NULL,
    content_type text   NOT NULL,
    created_ms   bigint NOT NULL,
    last_used_ms bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS result_cache (
    cache_key    text   PRIMARY KEY,    -- SHA-256 of model, version, parameters, input hash
    model        text   NOT NULL,
    result_json  text   NOT NULL,
    created_ms   bigint NOT NULL,
    last_used_ms bigint NOT NULL,
    hits         bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    tenant_id  text   NOT NULL,
    idem_key   text   NOT NULL,
    body_hash  text   NOT NULL,
    job_id     text   NOT NULL,
    created_ms bigint NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id     text   PRIMARY KEY,
    tenant_id  text   NOT NULL,
    model      text   NOT NULL,
    tier       int    NOT NULL,
    status     text   NOT NULL,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_tenant ON jobs (tenant_id, created_ms);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_ms);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    delivery_id     text   PRIMARY KEY,  -- job id + event: one delivery per event, however often it is asked for
    job_id          text   NOT NULL,
    url             text   NOT NULL,
    payload         text   NOT NULL,
    status          text   NOT NULL,     -- pending | delivered | failed
    attempts        int    NOT NULL DEFAULT 0,
    next_attempt_ms bigint NOT NULL,
    last_status     int,
    last_error      text,
    created_ms      bigint NOT NULL,
    delivered_ms    bigint,
    lease_until_ms  bigint
);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_deliveries (next_attempt_ms) WHERE status = 'pending';
ALTER TABLE job_queue ADD COLUMN IF NOT EXISTS cache_key text;
