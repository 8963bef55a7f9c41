-- Tỷ lệ hồ sơ trực tuyến toàn trình: online dossiers of full-online services / all dossiers of
-- full-online services, received in the period. A dossier is "of a full-online service" when its
-- agency's configuration of its procedure was full-online (TOAN_TRINH) on the day it was received.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), v.agency_code, NULL, v.received_event, v.lo, v.hi,
       CASE WHEN v.channel = 2 THEN DATE '1900-01-01' END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM ind_recv v
WHERE EXISTS (SELECT 1 FROM core.service_config c
              WHERE c.agency_code = v.agency_code AND c.procedure_code = v.procedure_code
                AND c.service_level = 'full_online'
                AND c.valid_from <= v.received_date
                AND (c.valid_to IS NULL OR c.valid_to >= v.received_date))
GROUP BY v.agency_code, v.received_event, v.lo, v.hi, CASE WHEN v.channel = 2 THEN DATE '1900-01-01' END;
