-- Tỷ lệ TTHC có nghĩa vụ tài chính được thanh toán trực tuyến: services of fee-bearing procedures
-- with at least one dossier received in the period and paid online (as in
-- online_payment_dossier_rate) / services of fee-bearing procedures with at least one dossier
-- received in the period. Services = agency x procedure in the configuration valid on the
-- snapshot date (any level).
INSERT INTO ind_service_fact (indicator_code, agency_code, procedure_code, event_date, lo, hi, num_lo, w_den)
SELECT CAST(:indicator_code AS text), v.agency_code, v.procedure_code, v.received_event, v.lo, v.hi,
       CASE WHEN v.paid_flag THEN DATE '1900-01-01' ELSE t.paid_date END, COUNT(*)
FROM ind_recv v
JOIN core.procedure p ON p.procedure_code = v.procedure_code AND p.has_fee
LEFT JOIN ind_paid_tx t ON t.dossier_code = v.dossier_code
GROUP BY v.agency_code, v.procedure_code, v.received_event, v.lo, v.hi,
         CASE WHEN v.paid_flag THEN DATE '1900-01-01' ELSE t.paid_date END;

INSERT INTO ind_service_scope (indicator_code, agency_code, procedure_code, lo, hi)
SELECT CAST(:indicator_code AS text), agency_code, procedure_code, lo, hi
FROM ind_config
WHERE has_fee;
