CREATE TABLE IF NOT EXISTS silos (
    silo_id    text        PRIMARY KEY,
    address    text        NOT NULL,
    roles      text        NOT NULL,
    gpu        text,
    started_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    status     text        NOT NULL  -- alive | dead | left
);
