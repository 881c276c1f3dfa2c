CREATE TABLE IF NOT EXISTS grain_state (
    grain_type TEXT    NOT NULL,
    grain_key  TEXT    NOT NULL,
    state      TEXT,
    version    INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (grain_type, grain_key)
) WITHOUT ROWID;
