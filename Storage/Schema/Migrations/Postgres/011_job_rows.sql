-- A job is one row (issue 31): the job grain's state (JSON) and version live in jobs, beside the
-- columns listings, analytics and housekeeping read, written in one statement per transition
-- (Storage/OrleansProviders/JobStateStorage.cs). The states stored before in OrleansStorage move
-- here; a state whose listing row a crash had lost gets one.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS state_json text;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0;
INSERT INTO jobs (job_id, tenant_id, model, tier, status, created_ms, updated_ms)
SELECT o.GrainIdExtensionString,
       COALESCE(convert_from(o.PayloadBinary, 'UTF8')::jsonb -> 'request' ->> 'tenantId', ''),
       COALESCE(convert_from(o.PayloadBinary, 'UTF8')::jsonb -> 'request' ->> 'model', ''),
       COALESCE((convert_from(o.PayloadBinary, 'UTF8')::jsonb -> 'request' ->> 'tier')::int, 0),
       (ARRAY['New', 'Queued', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Expired'])
           [COALESCE((convert_from(o.PayloadBinary, 'UTF8')::jsonb ->> 'status')::int, 0) + 1],
       (extract(epoch FROM o.ModifiedOn) * 1000)::bigint, (extract(epoch FROM o.ModifiedOn) * 1000)::bigint
FROM OrleansStorage o
WHERE o.GrainTypeString = 'job' AND o.PayloadBinary IS NOT NULL
ON CONFLICT (job_id) DO NOTHING;
UPDATE jobs j SET state_json = convert_from(o.PayloadBinary, 'UTF8'), version = o.Version,
    status = (ARRAY['New', 'Queued', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Expired'])
                 [COALESCE((convert_from(o.PayloadBinary, 'UTF8')::jsonb ->> 'status')::int, 0) + 1]
FROM OrleansStorage o
WHERE o.GrainTypeString = 'job' AND o.GrainIdExtensionString = j.job_id AND o.PayloadBinary IS NOT NULL;
DELETE FROM OrleansStorage WHERE GrainTypeString = 'job';
