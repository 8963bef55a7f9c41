-- The payment transactions of one snapshot row of online_payment_transaction_rate, with their
-- dossier, method and status. Offline (not in the numerator) first.
-- Parameters: :indicator_code, :agency, :period.
SELECT s.in_num, s.in_den, s.basis, s.counted_for, a.name AS counted_for_name, s.agency_code, s.item_code,
       s.dossier_code, COALESCE(p.method, 2) AS payment_method, COALESCE(p.channel, g.channel) AS payment_channel,
       COALESCE(p.status, 'paid') AS payment_status, COALESCE(p.transaction_at, g.transaction_at) AS transaction_at,
       COALESCE(p.amount, g.amount) AS amount
FROM exp_scope s
LEFT JOIN core.payment p ON p.transaction_id = s.item_code
LEFT JOIN core.paygov_transaction g ON g.transaction_id = s.item_code AND p.transaction_id IS NULL
LEFT JOIN core.agency a ON a.agency_code = s.counted_for
WHERE s.indicator_code = CAST(:indicator_code AS text)
  AND s.ancestor_code = CAST(:agency AS text)
  AND s.period = CAST(:period AS text)
ORDER BY s.in_num, s.counted_for, COALESCE(p.transaction_at, g.transaction_at), s.item_code;
