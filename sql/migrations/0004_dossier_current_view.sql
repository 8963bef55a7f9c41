-- core.dossier becomes a view of the current version in core.dossier_history (valid_to IS NULL):
-- one stored copy of each version, so a load writes every row once (benchmarks/bench_load.py).
DROP TABLE IF EXISTS core.dossier;

CREATE VIEW core.dossier AS
SELECT dossier_code, updated_at, procedure_code, agency_code, channel, status,
       submitted_at, received_at, due_at, finished_at, returned_at, rejected_at,
       result_channel, has_digitized_components, result_digitized, digitally_signed,
       paid_online, fee_amount, supplement_count, applicant_key, batch_id
FROM core.dossier_history
WHERE valid_to IS NULL;
