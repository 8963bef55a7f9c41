-- The latest supplement request of each dossier version (the last entry of DanhSachHoSoBoSung):
-- when it was made (NgayYeuCau) and the due date in force then (NgayHenTraCu). on_time_rate
-- stops the clock at the request: a dossier whose request came after its due date is late.
-- Versions loaded before this migration keep NULL (their source records are not stored).
ALTER TABLE staging.dossier ADD COLUMN IF NOT EXISTS supplement_requested_at timestamp;

ALTER TABLE staging.dossier ADD COLUMN IF NOT EXISTS supplement_due_at timestamp;

ALTER TABLE core.dossier_history ADD COLUMN IF NOT EXISTS supplement_requested_at timestamp;

ALTER TABLE core.dossier_history ADD COLUMN IF NOT EXISTS supplement_due_at timestamp;

CREATE OR REPLACE VIEW core.dossier AS
SELECT dossier_code, updated_at, procedure_code, agency_code, channel, status,
       submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
       result_channel, has_digitized_components, result_digitized, digitally_signed,
       paid_online, fee_amount, supplement_count, applicant_key, batch_id,
       supplement_requested_at, supplement_due_at
FROM core.dossier_history
WHERE valid_to IS NULL;
