-- Merge one batch of dossier versions from staging into core. Parameters: :batch_id.
-- A version (dossier_code, updated_at) is immutable: seen again, it is left as it was. The
-- anti-join skips the stored versions in bulk (the look-back re-reads days already loaded);
-- ON CONFLICT only guards a version repeated within the batch.
-- Fresh statistics first: a batch can be 100 rows or a year, and the plans below depend on it.
ANALYZE staging.dossier;

INSERT INTO core.dossier_history (
    dossier_code, updated_at, procedure_code, agency_code, channel, status,
    submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
    result_channel, has_digitized_components, result_digitized, digitally_signed,
    paid_online, fee_amount, supplement_count, applicant_key, batch_id,
    supplement_requested_at, supplement_due_at)
SELECT dossier_code, updated_at, procedure_code, agency_code, channel, status,
       submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
       result_channel, has_digitized_components, result_digitized, digitally_signed,
       paid_online, fee_amount, supplement_count, applicant_key, batch_id,
       supplement_requested_at, supplement_due_at
FROM staging.dossier s
WHERE batch_id = :batch_id
  AND NOT EXISTS (SELECT 1 FROM core.dossier_history h
                  WHERE h.dossier_code = s.dossier_code AND h.updated_at = s.updated_at)
ON CONFLICT (dossier_code, updated_at) DO NOTHING;

-- Each version is valid until the next one (versions may arrive out of order): recompute for the
-- dossiers this batch touched, and write only the rows whose valid_to changes.
UPDATE core.dossier_history AS h
SET valid_to = n.next_updated_at
FROM (
    SELECT dossier_code, updated_at, next_updated_at
    FROM (
        SELECT dossier_code, updated_at, valid_to,
               lead(updated_at) OVER (PARTITION BY dossier_code ORDER BY updated_at) AS next_updated_at
        FROM core.dossier_history
        WHERE dossier_code IN (SELECT dossier_code FROM staging.dossier WHERE batch_id = :batch_id)
    ) w
    WHERE valid_to IS DISTINCT FROM next_updated_at
) n
WHERE h.dossier_code = n.dossier_code
  AND h.updated_at = n.updated_at;

-- Staging holds only this transaction's batch (it is emptied before every commit).
TRUNCATE staging.dossier;
