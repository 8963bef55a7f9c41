-- Tỷ lệ DVCTT có phát sinh hồ sơ trực tuyến: full-online services with at least one online
-- dossier received in the period / full-online services with at least one dossier (any channel)
-- received in the period. Services = agency x procedure configured full-online on the snapshot
-- date; a dossier belongs to its agency's (or, after a merger, the successor's) service.
INSERT INTO ind_service_fact (indicator_code, agency_code, procedure_code, event_date, lo, hi, num_lo, w_den)
SELECT CAST(:indicator_code AS text), agency_code, procedure_code, received_event, lo, hi,
       CASE WHEN channel = 2 THEN DATE '1900-01-01' END, COUNT(*)
FROM ind_recv
GROUP BY agency_code, procedure_code, received_event, lo, hi, CASE WHEN channel = 2 THEN DATE '1900-01-01' END;

INSERT INTO ind_service_scope (indicator_code, agency_code, procedure_code, lo, hi)
SELECT CAST(:indicator_code AS text), agency_code, procedure_code, lo, hi
FROM ind_config
WHERE service_level = 'full_online';
