-- service_online_uptake_rate (measures/service_online_uptake_rate.sql, services.sql): the services
-- configured full-online on D with at least one dossier received in the period; in the numerator
-- those with at least one received online.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis, dossiers, hits)
SELECT CAST(:indicator_code AS text), d.period, CAST(NULL AS date), c.procedure_code, NULL, c.agency_code, 1,
       CASE WHEN d.hits > 0 THEN 1 ELSE 0 END,
       CASE WHEN d.hits > 0 THEN 'có hồ sơ nộp trực tuyến' ELSE 'không có hồ sơ nộp trực tuyến' END,
       d.dossiers, d.hits
FROM ind_config c
JOIN (
    SELECT period, agency_code, procedure_code, COUNT(*) AS dossiers,
           SUM(CASE WHEN channel = 2 THEN 1 ELSE 0 END) AS hits
    FROM exp_service_dossier
    GROUP BY period, agency_code, procedure_code
) d ON d.agency_code = c.agency_code AND d.procedure_code = c.procedure_code
WHERE c.service_level = 'full_online';
