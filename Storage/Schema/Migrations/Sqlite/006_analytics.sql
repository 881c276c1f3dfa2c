-- Usage analytics: what each finished job cost in time and whether the cache answered it, and
-- submissions refused per day, tenant and reason.
ALTER TABLE jobs ADD COLUMN cache_hit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN run_ms REAL;
ALTER TABLE jobs ADD COLUMN wait_ms INTEGER;
CREATE TABLE IF NOT EXISTS refusals (
    day       TEXT    NOT NULL,  -- yyyy-MM-dd, UTC
    tenant_id TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (day, tenant_id, reason)
);
