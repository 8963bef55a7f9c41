-- The dossiers of the snapshot rows in exp_wanted (indicator, agency; one period on D), with the fields that decide
-- whether each is in the numerator, as they stood at the end of D: the version ind_version holds for D, not read
-- from the history again. No personal data: the applicant's key and name are never read. Those not in the
-- numerator first.
-- Kept in exp_listed_dossier, numbered by `seq` in the listing's order (figure by figure): etl.explain reads
-- it whole, counts it, or has the database write each figure's CSV from it.
-- Parameters: :period.
DROP TABLE IF EXISTS exp_listed_dossier;
CREATE TEMPORARY TABLE exp_listed_dossier AS
SELECT w.figure, row_number() OVER (ORDER BY w.figure, s.in_num, s.counted_for, v.received_at, s.item_code) AS seq,
       s.indicator_code, s.ancestor_code, s.in_num, s.in_den, s.basis, s.counted_for, s.counted_for_name, s.agency_code, s.item_code,
       v.procedure_code, v.channel, v.status, v.received_at, v.due_at, v.ended_at, v.result_channel,
       v.supplement_count, v.supplement_requested_at, v.supplement_due_at,
       v.has_digitized_components_given AS has_digitized_components, v.result_digitized_given AS result_digitized,
       v.digitally_signed_given AS digitally_signed, v.paid_online, v.fee_amount,
       e.paid_online_at, v.updated_at AS changed_at, e.synced_at, e.post_collect_at, e.post_deliver_at
FROM exp_scope s
JOIN exp_wanted w ON w.indicator_code = s.indicator_code AND w.ancestor_code = s.ancestor_code
JOIN ind_version v ON v.dossier_code = s.dossier_code
LEFT JOIN exp_evidence e ON e.dossier_code = s.dossier_code
WHERE w.kind = 'dossier' AND s.period = CAST(:period AS text);

-- Each figure's CSV reads its rows in order (etl.explain.write_csvs): without it PostgreSQL scanned the
-- whole listing once per figure (9 s of a year-end report at 1 million dossiers a year).
CREATE INDEX exp_listed_dossier_figure ON exp_listed_dossier (figure, seq);
