-- Tỷ lệ hồ sơ tiếp nhận qua BCCI: dossiers received by post / dossiers received in the period.
-- By post = KenhThucHien 3, or a VNPost collection order (THU_GOM, not cancelled) for the dossier,
-- from the day that order was created.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), v.agency_code, NULL, v.received_event, v.lo, v.hi,
       CASE WHEN v.channel = 3 THEN DATE '1900-01-01' ELSE o.collect_date END, CAST(NULL AS date),
       COUNT(*), COUNT(*)
FROM ind_recv v
LEFT JOIN ind_postal o ON o.dossier_code = v.dossier_code
GROUP BY v.agency_code, v.received_event, v.lo, v.hi,
         CASE WHEN v.channel = 3 THEN DATE '1900-01-01' ELSE o.collect_date END;
