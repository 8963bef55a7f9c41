-- Tỷ lệ hồ sơ TTHC được thực hiện trực tuyến: online dossiers / dossiers received in the period.
-- Online = KenhThucHien 2 (a NULL channel was loaded as 1, the counter).
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, received_event, lo, hi,
       CASE WHEN channel = 2 THEN DATE '1900-01-01' END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM ind_recv
GROUP BY agency_code, received_event, lo, hi, CASE WHEN channel = 2 THEN DATE '1900-01-01' END;
