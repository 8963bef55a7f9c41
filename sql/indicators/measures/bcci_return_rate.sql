-- Tỷ lệ kết quả trả qua BCCI: resolved dossiers whose result is returned by post / dossiers
-- resolved in the period. By post = HinhThucTraKetQua 3, or a VNPost delivery order (PHAT_KQ, not
-- cancelled) for the dossier, from the day that order was created.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), v.agency_code, NULL, v.ended_event, v.lo, v.hi,
       CASE WHEN v.result_channel = 3 THEN DATE '1900-01-01' ELSE o.deliver_date END, CAST(NULL AS date),
       COUNT(*), COUNT(*)
FROM ind_ended v
LEFT JOIN ind_postal o ON o.dossier_code = v.dossier_code
GROUP BY v.agency_code, v.ended_event, v.lo, v.hi,
         CASE WHEN v.result_channel = 3 THEN DATE '1900-01-01' ELSE o.deliver_date END;
