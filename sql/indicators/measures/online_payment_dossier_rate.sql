-- Tỷ lệ hồ sơ thanh toán trực tuyến: dossiers paid online / dossiers of fee-bearing procedures
-- (CoPhiLePhi) received in the period. Paid online = the dossier's DuocThanhToanTrucTuyen is 1 or 2
-- in its state as of the snapshot date, or a successful online transaction for it exists by
-- then (ind_paid_tx: one-stop payment online and paid, or PayGov '00').
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), v.agency_code, NULL, v.received_event, v.lo, v.hi,
       CASE WHEN v.paid_flag THEN DATE '1900-01-01' ELSE t.paid_date END, CAST(NULL AS date),
       COUNT(*), COUNT(*)
FROM ind_recv v
JOIN core.procedure p ON p.procedure_code = v.procedure_code AND p.has_fee
LEFT JOIN ind_paid_tx t ON t.dossier_code = v.dossier_code
GROUP BY v.agency_code, v.received_event, v.lo, v.hi,
         CASE WHEN v.paid_flag THEN DATE '1900-01-01' ELSE t.paid_date END;
