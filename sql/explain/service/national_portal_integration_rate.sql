-- national_portal_integration_rate (measures/national_portal_integration_rate.sql): the services
-- configured full-online on D; in the numerator those integrated on the national portal on D
-- (from ngayTichHop, no longer from the day of ngayNgungTichHop). The same in every period.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis, dossiers, hits)
SELECT CAST(:indicator_code AS text), NULL, CAST(NULL AS date), procedure_code, NULL, agency_code, 1, integrated,
       CASE WHEN integrated > 0 THEN 'đã tích hợp trên Cổng DVCQG' ELSE 'chưa tích hợp trên Cổng DVCQG' END,
       CAST(NULL AS bigint), CAST(NULL AS bigint)
FROM (
    SELECT c.agency_code, c.procedure_code,
           (SELECT COUNT(*) FROM core.integrated_service i
            WHERE i.agency_code = c.agency_code AND i.procedure_code = c.procedure_code
              AND i.integrated_from <= CAST(:range_end AS date)
              AND (i.integrated_to IS NULL OR i.integrated_to > CAST(:range_end AS date))) AS integrated
    FROM ind_config c
    WHERE c.service_level = 'full_online'
) x;
