-- full_online_service_rate (measures/full_online_service_rate.sql): the services (agency x
-- procedure, configuration valid on D) of procedures eligible to be full-online; in the numerator
-- those configured full-online. The same in every period.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis, dossiers, hits)
SELECT CAST(:indicator_code AS text), NULL, CAST(NULL AS date), procedure_code, NULL, agency_code, 1,
       CASE WHEN service_level = 'full_online' THEN 1 ELSE 0 END,
       CASE WHEN service_level = 'full_online' THEN 'cung cấp toàn trình'
            WHEN service_level = 'partial_online' THEN 'chỉ cung cấp một phần'
            ELSE 'chưa cung cấp trực tuyến' END,
       CAST(NULL AS bigint), CAST(NULL AS bigint)
FROM ind_config
WHERE full_online_eligible;
