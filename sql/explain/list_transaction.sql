-- The payment transactions of the snapshot rows in exp_wanted of online_payment_transaction_rate, with their
-- dossier, method and status. Offline (not in the numerator) first.
-- Kept in exp_listed_transaction, numbered by `seq` in the listing's order (figure by figure): etl.explain reads
-- it whole, counts it, or has the database write each figure's CSV from it.
-- Parameters: :period.
DROP TABLE IF EXISTS exp_listed_transaction;
CREATE TEMPORARY TABLE exp_listed_transaction AS
SELECT w.figure, row_number() OVER (ORDER BY w.figure, s.in_num, s.counted_for, COALESCE(p.transaction_at, g.transaction_at), s.item_code) AS seq,
       s.indicator_code, s.ancestor_code, s.in_num, s.in_den, s.basis, s.counted_for, s.counted_for_name, s.agency_code, s.item_code,
       s.dossier_code, COALESCE(p.method, 2) AS payment_method, COALESCE(p.channel, g.channel) AS payment_channel,
       COALESCE(p.status, 'paid') AS payment_status, COALESCE(p.transaction_at, g.transaction_at) AS transaction_at,
       COALESCE(p.amount, g.amount) AS amount
FROM exp_scope s
JOIN exp_wanted w ON w.indicator_code = s.indicator_code AND w.ancestor_code = s.ancestor_code
LEFT JOIN core.payment p ON p.transaction_id = s.item_code
LEFT JOIN core.paygov_transaction g ON g.transaction_id = s.item_code AND p.transaction_id IS NULL
WHERE w.kind = 'transaction' AND s.period = CAST(:period AS text);

-- Each figure's CSV reads its rows in order (etl.explain.write_csvs): without it PostgreSQL scanned the
-- whole listing once per figure (9 s of a year-end report at 1 million dossiers a year).
CREATE INDEX exp_listed_transaction_figure ON exp_listed_transaction (figure, seq);
