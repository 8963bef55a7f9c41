-- Merge one batch's staged dossier versions into core. Parameters: :batch_id.
-- etl.load stages only the versions of dossiers already in core.dossier_history (stored by an
-- earlier batch, or inserted directly by an earlier chunk of this one); the versions of new
-- dossiers went straight into the history with their valid_to. A version (dossier_code,
-- updated_at) is immutable: seen again in a later batch, it is left as it was.
-- Fresh statistics first: a batch can stage 10 rows or a million, and the plans below depend on it.
ANALYZE staging.dossier;

CREATE TEMPORARY TABLE _dossier_touched AS
SELECT DISTINCT dossier_code FROM staging.dossier WHERE batch_id = :batch_id;

ANALYZE _dossier_touched;

-- Within a batch the copy of a version with the highest status wins, whichever chunk carried it:
-- a version an earlier chunk inserted directly takes a later chunk's copy with a higher status
-- (rare). Found with one probe of the primary key per staged version (a correlated aggregate is
-- not turned into a join: the planner would scan the whole history for the batch's rows).
CREATE TEMPORARY TABLE _dossier_restated AS
SELECT *
FROM (
    SELECT DISTINCT ON (dossier_code, updated_at) *
    FROM staging.dossier
    WHERE batch_id = :batch_id
    ORDER BY dossier_code, updated_at, status DESC
) s
WHERE s.status > (SELECT max(h.status) FROM core.dossier_history h
                  WHERE h.dossier_code = s.dossier_code AND h.updated_at = s.updated_at
                    AND h.batch_id = :batch_id);

ANALYZE _dossier_restated;

-- (Non-key columns only: the row keeps its place in the primary key.)
UPDATE core.dossier_history AS h
SET procedure_code = s.procedure_code, agency_code = s.agency_code, channel = s.channel,
    status = s.status, submitted_at = s.submitted_at, received_at = s.received_at, due_at = s.due_at,
    finished_at = s.finished_at, returned_at = s.returned_at, rejected_at = s.rejected_at,
    result_channel = s.result_channel, has_digitized_components = s.has_digitized_components,
    result_digitized = s.result_digitized, digitally_signed = s.digitally_signed,
    paid_online = s.paid_online, fee_amount = s.fee_amount, supplement_count = s.supplement_count,
    applicant_key = s.applicant_key, supplement_requested_at = s.supplement_requested_at,
    supplement_due_at = s.supplement_due_at
FROM _dossier_restated s
WHERE h.dossier_code = s.dossier_code
  AND h.updated_at = s.updated_at;

DROP TABLE _dossier_restated;

-- The versions not stored yet, one row each (a version repeated within the batch: the copy with
-- the highest status).
INSERT INTO core.dossier_history (
    dossier_code, updated_at, procedure_code, agency_code, channel, status,
    submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
    result_channel, has_digitized_components, result_digitized, digitally_signed,
    paid_online, fee_amount, supplement_count, applicant_key, batch_id,
    supplement_requested_at, supplement_due_at)
SELECT DISTINCT ON (dossier_code, updated_at)
       dossier_code, updated_at, procedure_code, agency_code, channel, status,
       submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
       result_channel, has_digitized_components, result_digitized, digitally_signed,
       paid_online, fee_amount, supplement_count, applicant_key, batch_id,
       supplement_requested_at, supplement_due_at
FROM staging.dossier s
WHERE batch_id = :batch_id
  AND NOT EXISTS (SELECT 1 FROM core.dossier_history h
                  WHERE h.dossier_code = s.dossier_code AND h.updated_at = s.updated_at)
ORDER BY dossier_code, updated_at, status DESC;

-- Each version is valid until the next one (versions may arrive out of order, and across
-- chunks): recompute for the touched dossiers, and write only the rows whose valid_to changes.
UPDATE core.dossier_history AS h
SET valid_to = n.next_updated_at
FROM (
    SELECT dossier_code, updated_at, next_updated_at
    FROM (
        SELECT dossier_code, updated_at, valid_to,
               lead(updated_at) OVER (PARTITION BY dossier_code ORDER BY updated_at) AS next_updated_at
        FROM core.dossier_history
        WHERE dossier_code IN (SELECT dossier_code FROM _dossier_touched)
    ) w
    WHERE valid_to IS DISTINCT FROM next_updated_at
) n
WHERE h.dossier_code = n.dossier_code
  AND h.updated_at = n.updated_at;

DROP TABLE _dossier_touched;

-- Staging holds only this transaction's batch (it is emptied before every commit).
TRUNCATE staging.dossier;
