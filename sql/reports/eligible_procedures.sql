-- Procedures eligible to be full-online (DuDieuKienToanTrinh), with the services (agency x
-- procedure) configured on the report date and how many of them are full-online.
-- Parameters: :day.
SELECT p.procedure_code, p.name AS procedure_name, p.field_name,
       COUNT(c.agency_code) AS services,
       COALESCE(SUM(CASE WHEN c.service_level = 'full_online' THEN 1 ELSE 0 END), 0) AS full_online_services
FROM core.procedure p
LEFT JOIN core.service_config c
  ON c.procedure_code = p.procedure_code
 AND c.valid_from <= CAST(:day AS date) AND (c.valid_to IS NULL OR c.valid_to >= CAST(:day AS date))
WHERE p.full_online_eligible
GROUP BY p.procedure_code, p.name, p.field_name
ORDER BY p.field_name, p.procedure_code;
