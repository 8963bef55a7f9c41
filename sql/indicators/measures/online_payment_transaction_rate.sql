-- Tỷ lệ giao dịch thanh toán trực tuyến: online payment transactions / all payment transactions,
-- of the period (by ThoiGianGD): the successful transactions of versions.sql's ind_transaction, at
-- the agency of their dossier.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, tx_event,
       lo, CAST(:range_end AS date), CASE WHEN online THEN lo END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM (
    SELECT agency_code, online,
           -- before the range only the month matters (as for dossier events in prepare.sql)
           CASE WHEN transaction_at < CAST(:start_ts AS timestamp)
                THEN CAST(date_trunc('month', transaction_at) AS date)
                ELSE CAST(transaction_at AS date) END AS tx_event,
           GREATEST(CAST(transaction_at AS date), CAST(:range_start AS date)) AS lo
    FROM ind_transaction
) t
GROUP BY agency_code, tx_event, lo, online;
