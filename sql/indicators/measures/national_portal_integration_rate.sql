-- Tỷ lệ DVCTT toàn trình tích hợp trên Cổng DVCQG: full-online services integrated on the national
-- portal / full-online services, both as of the snapshot date (configuration valid that day,
-- integrated from ngayTichHop, no longer from the day of ngayNgungTichHop).
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, CAST(NULL AS date), lo, hi,
       CAST(NULL AS date), CAST(NULL AS date), COUNT(*), 0
FROM ind_config
WHERE service_level = 'full_online'
GROUP BY agency_code, lo, hi;

INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, CAST(NULL AS date), lo, hi, lo, hi, 0, COUNT(*)
FROM (
    SELECT c.agency_code,
           GREATEST(c.lo, i.integrated_from) AS lo,
           LEAST(c.hi, COALESCE(i.integrated_to - 1, c.hi)) AS hi
    FROM ind_config c
    JOIN core.integrated_service i ON i.agency_code = c.agency_code AND i.procedure_code = c.procedure_code
    WHERE c.service_level = 'full_online'
) x
WHERE lo <= hi
GROUP BY agency_code, lo, hi;
