-- Merge one batch of dossier versions from staging into core. Parameters: :batch_id.
-- A version (dossier_code, updated_at) is immutable: seen again, it is left as it was.
INSERT INTO core.dossier_history (
    dossier_code, updated_at, procedure_code, agency_code, channel, status,
    submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
    result_channel, has_digitized_components, result_digitized, digitally_signed,
    paid_online, fee_amount, supplement_count, applicant_key, batch_id)
SELECT dossier_code, updated_at, procedure_code, agency_code, channel, status,
       submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
       result_channel, has_digitized_components, result_digitized, digitally_signed,
       paid_online, fee_amount, supplement_count, applicant_key, batch_id
FROM (
    SELECT s.*, row_number() OVER (PARTITION BY dossier_code, updated_at ORDER BY status DESC) AS rn
    FROM staging.dossier s
    WHERE batch_id = :batch_id
) d
WHERE rn = 1
ON CONFLICT (dossier_code, updated_at) DO NOTHING;

-- Each version is valid until the next one: recompute for the dossiers this batch touched.
UPDATE core.dossier_history AS h
SET valid_to = n.next_updated_at
FROM (
    SELECT dossier_code, updated_at,
           lead(updated_at) OVER (PARTITION BY dossier_code ORDER BY updated_at) AS next_updated_at
    FROM core.dossier_history
    WHERE dossier_code IN (SELECT dossier_code FROM staging.dossier WHERE batch_id = :batch_id)
) n
WHERE h.dossier_code = n.dossier_code
  AND h.updated_at = n.updated_at
  AND h.valid_to IS DISTINCT FROM n.next_updated_at;

-- The current row: replaced only by a newer version, so late or repeated batches never regress it.
INSERT INTO core.dossier (
    dossier_code, updated_at, procedure_code, agency_code, channel, status,
    submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
    result_channel, has_digitized_components, result_digitized, digitally_signed,
    paid_online, fee_amount, supplement_count, applicant_key, batch_id)
SELECT dossier_code, updated_at, procedure_code, agency_code, channel, status,
       submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
       result_channel, has_digitized_components, result_digitized, digitally_signed,
       paid_online, fee_amount, supplement_count, applicant_key, batch_id
FROM (
    SELECT s.*, row_number() OVER (PARTITION BY dossier_code ORDER BY updated_at DESC, status DESC) AS rn
    FROM staging.dossier s
    WHERE batch_id = :batch_id
) d
WHERE rn = 1
ON CONFLICT (dossier_code) DO UPDATE SET
    updated_at = excluded.updated_at,
    procedure_code = excluded.procedure_code,
    agency_code = excluded.agency_code,
    channel = excluded.channel,
    status = excluded.status,
    submitted_at = excluded.submitted_at,
    received_at = excluded.received_at,
    due_at = excluded.due_at,
    finished_at = excluded.finished_at,
    returned_at = excluded.returned_at,
    rejected_at = excluded.rejected_at,
    result_channel = excluded.result_channel,
    has_digitized_components = excluded.has_digitized_components,
    result_digitized = excluded.result_digitized,
    digitally_signed = excluded.digitally_signed,
    paid_online = excluded.paid_online,
    fee_amount = excluded.fee_amount,
    supplement_count = excluded.supplement_count,
    applicant_key = excluded.applicant_key,
    batch_id = excluded.batch_id
WHERE excluded.updated_at > core.dossier.updated_at;

DELETE FROM staging.dossier WHERE batch_id = :batch_id;
