-- Blobs by tenant and retention class, kept while referenced (issue 16). Objects live in the
-- configured object store (a folder or an S3 bucket) under {class}/{tenant}/{ab}/{hash}; the old
-- flat, untenanted blob table and the cache entries that pointed at it are retired.
DROP TABLE IF EXISTS blobs;
CREATE TABLE IF NOT EXISTS blob_objects (
    tenant_id    text   NOT NULL,
    class        text   NOT NULL,       -- input | output
    hash         text   NOT NULL,       -- SHA-256, hex
    size         bigint NOT NULL,
    content_type text   NOT NULL,
    created_ms   bigint NOT NULL,
    deleting_ms  bigint,                -- set while the object is being deleted
    PRIMARY KEY (tenant_id, class, hash)
);
CREATE TABLE IF NOT EXISTS blob_refs (
    owner      text   NOT NULL,         -- job:{id} | cache:{key}
    tenant_id  text   NOT NULL,
    class      text   NOT NULL,
    hash       text   NOT NULL,
    expires_ms bigint NOT NULL,         -- the class's retention for this owner's plan
    PRIMARY KEY (owner, tenant_id, class, hash)
);
CREATE INDEX IF NOT EXISTS blob_refs_object ON blob_refs (tenant_id, class, hash);
CREATE INDEX IF NOT EXISTS blob_refs_expires ON blob_refs (expires_ms);
DELETE FROM result_cache;
ALTER TABLE result_cache ADD COLUMN tenant_id text NOT NULL DEFAULT '';
ALTER TABLE result_cache ADD COLUMN producer_job text NOT NULL DEFAULT '';
ALTER TABLE result_cache ADD COLUMN keep_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE result_cache ADD COLUMN expires_ms bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS result_cache_expires ON result_cache (expires_ms);
CREATE INDEX IF NOT EXISTS result_cache_producer ON result_cache (producer_job);
CREATE INDEX IF NOT EXISTS result_cache_tenant ON result_cache (tenant_id);
-- Erasures for audit: who, what, when, how much; never the content.
CREATE TABLE IF NOT EXISTS erasures (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms           bigint NOT NULL,
    actor           text   NOT NULL,    -- tenant:{id}/key:{keyId} | admin
    tenant_id       text   NOT NULL,
    job_id          text,               -- null: the whole tenant
    scope           text   NOT NULL,    -- job | tenant
    jobs            bigint NOT NULL,
    objects_deleted bigint NOT NULL,
    bytes_deleted   bigint NOT NULL,
    objects_kept    bigint NOT NULL,
    cache_entries   bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS erasures_tenant ON erasures (tenant_id, at_ms);
