-- A job is one row (issue 31): the job grain's state (JSON) and version live in jobs, beside the
-- columns listings, analytics and housekeeping read, written in one statement per transition
-- (Storage/OrleansProviders/JobStateStorage.cs). The states stored before in OrleansStorage move
-- here; a state whose listing row a crash had lost gets one.
ALTER TABLE jobs ADD COLUMN state_json TEXT;
ALTER TABLE jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
INSERT INTO jobs (job_id, tenant_id, model, tier, status, created_ms, updated_ms)
SELECT o.GrainIdExtensionString,
       COALESCE(json_extract(CAST(o.PayloadBinary AS TEXT), '$.request.tenantId'), ''),
       COALESCE(json_extract(CAST(o.PayloadBinary AS TEXT), '$.request.model'), ''),
       COALESCE(json_extract(CAST(o.PayloadBinary AS TEXT), '$.request.tier'), 0),
       CASE COALESCE(json_extract(CAST(o.PayloadBinary AS TEXT), '$.status'), 0)
           WHEN 1 THEN 'Queued' WHEN 2 THEN 'Running' WHEN 3 THEN 'Succeeded' WHEN 4 THEN 'Failed'
           WHEN 5 THEN 'Canceled' WHEN 6 THEN 'Expired' ELSE 'New' END,
       CAST((julianday(o.ModifiedOn) - 2440587.5) * 86400000 AS INTEGER), CAST((julianday(o.ModifiedOn) - 2440587.5) * 86400000 AS INTEGER)
FROM OrleansStorage o
WHERE o.GrainTypeString = 'job' AND o.PayloadBinary IS NOT NULL
ON CONFLICT (job_id) DO NOTHING;
UPDATE jobs SET
    state_json = (SELECT CAST(o.PayloadBinary AS TEXT) FROM OrleansStorage o
                  WHERE o.GrainTypeString = 'job' AND o.GrainIdExtensionString = jobs.job_id AND o.PayloadBinary IS NOT NULL),
    version = (SELECT o.Version FROM OrleansStorage o
               WHERE o.GrainTypeString = 'job' AND o.GrainIdExtensionString = jobs.job_id AND o.PayloadBinary IS NOT NULL),
    status = (SELECT CASE COALESCE(json_extract(CAST(o.PayloadBinary AS TEXT), '$.status'), 0)
                         WHEN 1 THEN 'Queued' WHEN 2 THEN 'Running' WHEN 3 THEN 'Succeeded' WHEN 4 THEN 'Failed'
                         WHEN 5 THEN 'Canceled' WHEN 6 THEN 'Expired' ELSE 'New' END
              FROM OrleansStorage o
              WHERE o.GrainTypeString = 'job' AND o.GrainIdExtensionString = jobs.job_id AND o.PayloadBinary IS NOT NULL)
WHERE EXISTS (SELECT 1 FROM OrleansStorage o WHERE o.GrainTypeString = 'job' AND o.GrainIdExtensionString = jobs.job_id AND o.PayloadBinary IS NOT NULL);
DELETE FROM OrleansStorage WHERE GrainTypeString = 'job';
