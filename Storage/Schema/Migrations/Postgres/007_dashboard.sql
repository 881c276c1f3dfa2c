-- The dashboard's chart samples (the fleet every 5 s): one row per 5-second slot whichever API
-- silo takes it, so the charts are the same on every silo and survive restarts (kept 24 h).
CREATE TABLE IF NOT EXISTS dashboard_samples (
    slot        BIGINT PRIMARY KEY,  -- at_ms / 5000
    at_ms       BIGINT NOT NULL,
    queue_depth INTEGER NOT NULL,
    cold        INTEGER NOT NULL,
    warm        INTEGER NOT NULL,
    hot         INTEGER NOT NULL,
    serving     INTEGER NOT NULL,
    per_hour    NUMERIC NOT NULL,
    spent_today NUMERIC NOT NULL
);
