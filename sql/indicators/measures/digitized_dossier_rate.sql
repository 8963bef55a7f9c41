-- Tỷ lệ hồ sơ được số hóa: received dossiers with digitized components (HoSoCoThanhPhanSoHoa)
-- / dossiers received in the period.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, received_event, lo, hi,
       CASE WHEN has_digitized_components THEN DATE '1900-01-01' END, CAST(NULL AS date),
       COUNT(*), COUNT(*)
FROM ind_recv
GROUP BY agency_code, received_event, lo, hi,
         CASE WHEN has_digitized_components THEN DATE '1900-01-01' END;
