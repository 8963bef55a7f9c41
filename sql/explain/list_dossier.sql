-- The dossiers of one snapshot row (indicator, agency, period on D), with the fields that decide
-- whether each is in the numerator, as they stood at the end of D. No personal data: the
-- applicant's key and name are never read. Those not in the numerator first.
-- Parameters: :indicator_code, :agency, :period.
SELECT s.in_num, s.in_den, s.basis, s.counted_for, a.name AS counted_for_name, s.agency_code, s.item_code,
       h.procedure_code, h.channel, h.status, h.received_at, h.due_at, v.ended_at, h.result_channel,
       h.supplement_count, h.supplement_requested_at, h.supplement_due_at,
       h.has_digitized_components, h.result_digitized, h.digitally_signed, h.paid_online, h.fee_amount,
       e.paid_online_at, h.updated_at AS changed_at, e.synced_at, e.post_collect_at, e.post_deliver_at
FROM exp_scope s
JOIN ind_version v ON v.dossier_code = s.dossier_code
JOIN core.dossier_history h ON h.dossier_code = v.dossier_code AND h.updated_at = v.updated_at
LEFT JOIN exp_evidence e ON e.dossier_code = s.dossier_code
LEFT JOIN core.agency a ON a.agency_code = s.counted_for
WHERE s.indicator_code = CAST(:indicator_code AS text)
  AND s.ancestor_code = CAST(:agency AS text)
  AND s.period = CAST(:period AS text)
ORDER BY s.in_num, s.counted_for, h.received_at, s.item_code;
