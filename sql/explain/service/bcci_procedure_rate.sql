-- bcci_procedure_rate (measures/bcci_procedure_rate.sql, services.sql): the services (configuration
-- valid on D) with at least one dossier received in the period; in the numerator those with at
-- least one submitted or returned by post (KenhThucHien / HinhThucTraKetQua 3, or a VNPost order by D).
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis, dossiers, hits)
SELECT CAST(:indicator_code AS text), d.period, CAST(NULL AS date), c.procedure_code, NULL, c.agency_code, 1,
       CASE WHEN d.hits > 0 THEN 1 ELSE 0 END,
       CASE WHEN d.hits > 0 THEN 'có hồ sơ qua bưu chính' ELSE 'không có hồ sơ qua bưu chính' END,
       d.dossiers, d.hits
FROM ind_config c
JOIN (
    SELECT s.period, s.agency_code, s.procedure_code, COUNT(*) AS dossiers,
           SUM(CASE WHEN s.channel = 3 OR s.result_channel = 3
                     OR LEAST(o.collect_date, o.deliver_date) <= CAST(:range_end AS date) THEN 1 ELSE 0 END) AS hits
    FROM exp_service_dossier s
    LEFT JOIN ind_postal o ON o.dossier_code = s.dossier_code
    GROUP BY s.period, s.agency_code, s.procedure_code
) d ON d.agency_code = c.agency_code AND d.procedure_code = c.procedure_code;
