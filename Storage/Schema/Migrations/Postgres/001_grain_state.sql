CREATE TABLE IF NOT EXISTS grain_state (
    grain_type text   NOT NULL,
    grain_key  text   NOT NULL,
    state      jsonb,
    version    bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain_type, grain_key)
);
