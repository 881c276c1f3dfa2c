-- Usage analytics: what each finished job cost in time and whether the cache answered it, and
-- submissions refused per day, tenant and reason.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS cache_hit int NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS run_ms double precision;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS wait_ms bigint;
CREATE TABLE IF NOT EXISTS refusals (
    day       text   NOT NULL,  -- yyyy-MM-dd, UTC
    tenant_id text   NOT NULL,
    reason    text   NOT NULL,
    count     bigint NOT NULL,
    PRIMARY KEY (day, tenant_id, reason)
);
