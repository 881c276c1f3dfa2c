CREATE TABLE IF NOT EXISTS silos (
    silo_id    TEXT    PRIMARY KEY,
    address    TEXT    NOT NULL,
    roles      TEXT    NOT NULL,
    gpu        TEXT,
    started_at INTEGER NOT NULL,  -- unix milliseconds
    last_seen  INTEGER NOT NULL,
    status     TEXT    NOT NULL   -- alive | dead | left
);
