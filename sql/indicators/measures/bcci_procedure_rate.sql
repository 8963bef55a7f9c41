-- TTHC có phát sinh dịch vụ BCCI: services (agency x procedure in the configuration valid on the
-- snapshot date) with at least one dossier received in the period that was submitted by post
-- (KenhThucHien 3) or whose result is returned by post (HinhThucTraKetQua 3), or has a VNPost order
-- (not cancelled) by then / services with at least one dossier received in the period.
INSERT INTO ind_service_fact (indicator_code, agency_code, procedure_code, event_date, lo, hi, num_lo, w_den)
SELECT CAST(:indicator_code AS text), v.agency_code, v.procedure_code, v.received_event, v.lo, v.hi,
       CASE WHEN v.channel = 3 OR v.result_channel = 3 THEN DATE '1900-01-01'
            ELSE LEAST(o.collect_date, o.deliver_date) END, COUNT(*)
FROM ind_recv v
LEFT JOIN ind_postal o ON o.dossier_code = v.dossier_code
GROUP BY v.agency_code, v.procedure_code, v.received_event, v.lo, v.hi,
         CASE WHEN v.channel = 3 OR v.result_channel = 3 THEN DATE '1900-01-01'
              ELSE LEAST(o.collect_date, o.deliver_date) END;

INSERT INTO ind_service_scope (indicator_code, agency_code, procedure_code, lo, hi)
SELECT CAST(:indicator_code AS text), agency_code, procedure_code, lo, hi
FROM ind_config;
