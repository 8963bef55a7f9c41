-- online_payment_transaction_rate (measures/online_payment_transaction_rate.sql): the successful
-- payment transactions of the period (by ThoiGianGD), at the agency of their dossier; in the
-- numerator the online ones. A one-stop payment that reached "paid" (later refunded or not),
-- online when HinhThucThanhToan is 2; a successful PayGov transaction the one-stop system lacks.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, CAST(t.tx_at AS date), t.transaction_id, t.dossier_code, d.agency_code, 1,
       CASE WHEN t.online THEN 1 ELSE 0 END, t.basis
FROM (
    SELECT transaction_id, dossier_code, transaction_at AS tx_at, method = 2 AS online,
           CASE WHEN method = 2 THEN 'thanh toán trực tuyến (một cửa)' ELSE 'thanh toán trực tiếp (một cửa)' END AS basis
    FROM core.payment
    WHERE status IN ('paid', 'refunded')
      AND transaction_at >= CAST(:cal_start_ts AS timestamp)
      AND transaction_at < CAST(:end_next_ts AS timestamp)
    UNION ALL
    SELECT g.transaction_id, g.dossier_code, g.transaction_at, TRUE, 'thanh toán trực tuyến (PayGov, không có ở một cửa)'
    FROM core.paygov_transaction g
    WHERE g.error_code = '00'
      AND g.transaction_at >= CAST(:cal_start_ts AS timestamp)
      AND g.transaction_at < CAST(:end_next_ts AS timestamp)
      AND NOT EXISTS (SELECT 1 FROM core.payment p WHERE p.transaction_id = g.transaction_id)
) t
JOIN core.dossier d ON d.dossier_code = t.dossier_code
WHERE d.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
