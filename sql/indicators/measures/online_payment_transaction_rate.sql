-- Tỷ lệ giao dịch thanh toán trực tuyến: online payment transactions / all payment transactions,
-- of the period (by ThoiGianGD). A transaction counts once it succeeded: a one-stop payment that
-- reached "paid" (a later refund does not undo it; pending and cancelled attempts never count),
-- online when HinhThucThanhToan is 2; a successful PayGov transaction ('00') the one-stop
-- system does not have counts as online. The agency is the dossier's.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), d.agency_code, NULL, t.tx_event,
       t.lo, CAST(:range_end AS date), CASE WHEN t.online THEN t.lo END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM (
    SELECT dossier_code, online,
           -- before the range only the month matters (as for dossier events in prepare.sql)
           CASE WHEN tx_at < CAST(:start_ts AS timestamp) THEN CAST(date_trunc('month', tx_at) AS date)
                ELSE CAST(tx_at AS date) END AS tx_event,
           GREATEST(CAST(tx_at AS date), CAST(:range_start AS date)) AS lo
    FROM (
    SELECT dossier_code, transaction_at AS tx_at, method = 2 AS online
    FROM core.payment
    WHERE status IN ('paid', 'refunded')
      AND transaction_at >= CAST(:cal_start_ts AS timestamp)
      AND transaction_at < CAST(:end_next_ts AS timestamp)
    UNION ALL
    SELECT g.dossier_code, g.transaction_at, TRUE
    FROM core.paygov_transaction g
    WHERE g.error_code = '00'
      AND g.transaction_at >= CAST(:cal_start_ts AS timestamp)
      AND g.transaction_at < CAST(:end_next_ts AS timestamp)
      AND NOT EXISTS (SELECT 1 FROM core.payment p WHERE p.transaction_id = g.transaction_id)
    ) u
) t
JOIN core.dossier d ON d.dossier_code = t.dossier_code
GROUP BY d.agency_code, t.tx_event, t.lo, t.online;
