-- Billing. The credit ledger is append-only: a tenant's balance is the sum of its rows, and each
-- row's entry_key (job id, Stripe event or object id, admin grant id) makes a movement happen
-- at most once. Rows are written in the tenant grain's turn, in the same transaction as its state.
CREATE TABLE IF NOT EXISTS credit_ledger (
    entry_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT   NOT NULL,
    entry_key  TEXT   NOT NULL,
    kind       TEXT   NOT NULL,      -- grant | period | expire | reserve | release | settle | pack | revoke
    included   INTEGER NOT NULL,      -- change to the period's included credits
    purchased  INTEGER NOT NULL,      -- change to purchased / granted credits (never expire)
    overage    INTEGER NOT NULL,      -- change to credits owed as overage (billed through Stripe)
    job_id     TEXT,
    reference  TEXT,
    created_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, entry_key)
);
CREATE INDEX IF NOT EXISTS credit_ledger_tenant ON credit_ledger (tenant_id, entry_id);
CREATE TABLE IF NOT EXISTS stripe_events (
    event_id    TEXT   PRIMARY KEY,
    type        TEXT   NOT NULL,
    tenant_id   TEXT,
    created_s   INTEGER NOT NULL,     -- the event's own "created"
    received_ms INTEGER NOT NULL,
    outcome     TEXT   NOT NULL
);
CREATE TABLE IF NOT EXISTS stripe_customers (
    customer_id TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stripe_outbox (
    outbox_id       TEXT   PRIMARY KEY,  -- also the Idempotency-Key / meter event identifier
    tenant_id       TEXT   NOT NULL,
    path            TEXT   NOT NULL,     -- e.g. /v1/billing/meter_events
    form            TEXT   NOT NULL,     -- JSON object of form fields
    status          TEXT   NOT NULL,     -- pending | sent | failed
    attempts        INTEGER    NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    created_ms      INTEGER NOT NULL,
    sent_ms         INTEGER,
    lease_until_ms  INTEGER
);
CREATE INDEX IF NOT EXISTS stripe_outbox_due ON stripe_outbox (next_attempt_ms) WHERE status = 'pending';
