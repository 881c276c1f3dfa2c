-- Billing. The credit ledger is append-only: a tenant's balance is the sum of its rows, and each
-- row's entry_key (job id, Stripe event or object id, admin grant id) makes a movement happen
-- at most once. Rows are written in the tenant grain's turn, in the same transaction as its state.
CREATE TABLE IF NOT EXISTS credit_ledger (
    entry_id   bigserial PRIMARY KEY,
    tenant_id  text   NOT NULL,
    entry_key  text   NOT NULL,
    kind       text   NOT NULL,      -- grant | period | expire | reserve | release | settle | pack | revoke
    included   bigint NOT NULL,      -- change to the period's included credits
    purchased  bigint NOT NULL,      -- change to purchased / granted credits (never expire)
    overage    bigint NOT NULL,      -- change to credits owed as overage (billed through Stripe)
    job_id     text,
    reference  text,
    created_ms bigint NOT NULL,
    UNIQUE (tenant_id, entry_key)
);
CREATE INDEX IF NOT EXISTS credit_ledger_tenant ON credit_ledger (tenant_id, entry_id);
CREATE TABLE IF NOT EXISTS stripe_events (
    event_id    text   PRIMARY KEY,
    type        text   NOT NULL,
    tenant_id   text,
    created_s   bigint NOT NULL,     -- the event's own "created"
    received_ms bigint NOT NULL,
    outcome     text   NOT NULL
);
CREATE TABLE IF NOT EXISTS stripe_customers (
    customer_id text PRIMARY KEY,
    tenant_id   text NOT NULL
);
CREATE TABLE IF NOT EXISTS stripe_outbox (
    outbox_id       text   PRIMARY KEY,  -- also the Idempotency-Key / meter event identifier
    tenant_id       text   NOT NULL,
    path            text   NOT NULL,     -- e.g. /v1/billing/meter_events
    form            text   NOT NULL,     -- JSON object of form fields
    status          text   NOT NULL,     -- pending | sent | failed
    attempts        int    NOT NULL DEFAULT 0,
    next_attempt_ms bigint NOT NULL,
    last_error      text,
    created_ms      bigint NOT NULL,
    sent_ms         bigint,
    lease_until_ms  bigint
);
CREATE INDEX IF NOT EXISTS stripe_outbox_due ON stripe_outbox (next_attempt_ms) WHERE status = 'pending';
