-- Tỷ lệ DVCTT toàn trình: services configured full-online (MucDo TOAN_TRINH) / services whose
-- procedure is eligible to be full-online (DuDieuKienToanTrinh), counting one service per agency x
-- procedure in the configuration valid on the snapshot date. Same figure in every period.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, CAST(NULL AS date), lo, hi,
       CASE WHEN service_level = 'full_online' THEN DATE '1900-01-01' END, CAST(NULL AS date),
       COUNT(*), COUNT(*)
FROM ind_config
WHERE full_online_eligible
GROUP BY agency_code, lo, hi, CASE WHEN service_level = 'full_online' THEN DATE '1900-01-01' END;
