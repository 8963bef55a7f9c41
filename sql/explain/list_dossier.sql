-- The dossiers of the snapshot rows in exp_wanted (indicator, agency; one period on D), with the fields that decide
-- whether each is in the numerator, as they stood at the end of D. No personal data: the
-- applicant's key and name are never read. Those not in the numerator first.
-- Kept in exp_listed_dossier, numbered by `seq` in the listing's order (figure by figure): etl.explain reads
-- it whole, counts it, or has the database write each figure's CSV from it.
-- Parameters: :period.
DROP TABLE IF EXISTS exp_listed_dossier;
CREATE TEMPORARY TABLE exp_listed_dossier AS
SELECT w.figure, row_number() OVER (ORDER BY w.figure, s.in_num, s.counted_for, h.received_at, s.item_code) AS seq,
       s.indicator_code, s.ancestor_code, s.in_num, s.in_den, s.basis, s.counted_for, s.counted_for_name, s.agency_code, s.item_code,
       h.procedure_code, h.channel, h.status, h.received_at, h.due_at, v.ended_at, h.result_channel,
       h.supplement_count, h.supplement_requested_at, h.supplement_due_at,
       h.has_digitized_components, h.result_digitized, h.digitally_signed, h.paid_online, h.fee_amount,
       e.paid_online_at, h.updated_at AS changed_at, e.synced_at, e.post_collect_at, e.post_deliver_at
FROM exp_scope s
JOIN exp_wanted w ON w.indicator_code = s.indicator_code AND w.ancestor_code = s.ancestor_code
JOIN ind_version v ON v.dossier_code = s.dossier_code
JOIN core.dossier_history h ON h.dossier_code = v.dossier_code AND h.updated_at = v.updated_at
LEFT JOIN exp_evidence e ON e.dossier_code = s.dossier_code
WHERE w.kind = 'dossier' AND s.period = CAST(:period AS text);

-- Each figure's CSV reads its rows in order (etl.explain.write_csvs): without it PostgreSQL scanned the
-- whole listing once per figure (9 s of a year-end report at 1 million dossiers a year).
CREATE INDEX exp_listed_dossier_figure ON exp_listed_dossier (figure, seq);
