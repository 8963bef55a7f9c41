-- Tỷ lệ hồ sơ luân chuyển, giải quyết trực tuyến và ký số: resolved dossiers processed in the system and digitally signed (DuocKySo)
-- / dossiers resolved in the period (processing ended -- NgayKetThucXuLy, or the refusal for
-- 3/8 without it -- within the period; received dossiers only, as in on_time_rate).
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, ended_event, lo, hi,
       CASE WHEN digitally_signed THEN DATE '1900-01-01' END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM ind_ended
GROUP BY agency_code, ended_event, lo, hi, CASE WHEN digitally_signed THEN DATE '1900-01-01' END;
