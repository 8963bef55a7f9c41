-- online_dossier_full_online_rate (measures/online_dossier_full_online_rate.sql): the dossiers
-- received in the period whose service was full-online on the day they were received; in the
-- numerator those submitted online.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, v.received_event, v.dossier_code, v.dossier_code, v.agency_code, 1,
       CASE WHEN v.channel = 2 THEN 1 ELSE 0 END,
       CASE WHEN v.channel = 2 THEN 'DVC toàn trình, nộp trực tuyến'
            WHEN v.channel = 3 THEN 'DVC toàn trình, nộp qua bưu chính'
            ELSE 'DVC toàn trình, nộp trực tiếp' END
FROM ind_recv v
WHERE EXISTS (SELECT 1 FROM core.service_config c
              WHERE c.agency_code = v.agency_code AND c.procedure_code = v.procedure_code
                AND c.service_level = 'full_online'
                AND c.valid_from <= v.received_date
                AND (c.valid_to IS NULL OR c.valid_to >= v.received_date))
  AND v.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
