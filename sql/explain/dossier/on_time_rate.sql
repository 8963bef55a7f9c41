-- on_time_rate (measures/on_time_rate.sql): the dossiers whose processing ended in the period
-- (in the numerator when on time), and those received and still open at the end of D, in every
-- period (in the numerator unless late: overdue at the end of D, or a supplement requested after
-- the due date then in force, or more than one request; one waiting for a supplement requested in
-- time is on time -- the clock stopped at the request).
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, e.ended_event, e.dossier_code, e.dossier_code, e.agency_code, 1,
       CASE WHEN e.on_time THEN 1 ELSE 0 END,
       CASE WHEN e.on_time THEN 'đã giải quyết, đúng hạn'
            WHEN v.supplement_count > 1 THEN 'đã giải quyết, yêu cầu bổ sung hơn một lần'
            WHEN v.requested_late THEN 'đã giải quyết, yêu cầu bổ sung sau khi đã quá hạn'
            ELSE 'đã giải quyết, quá hạn' END
FROM ind_ended e
JOIN ind_version v ON v.dossier_code = e.dossier_code
WHERE e.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));

INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, CAST(NULL AS date), o.dossier_code, o.dossier_code, o.agency_code, 1,
       CASE WHEN NOT o.late AND (o.waiting OR o.due_at IS NULL OR o.due_at >= CAST(:start_next_ts AS timestamp))
            THEN 1 ELSE 0 END,
       CASE WHEN v.supplement_count > 1 THEN 'đang giải quyết, yêu cầu bổ sung hơn một lần'
            WHEN o.late AND o.waiting THEN 'chờ bổ sung, yêu cầu sau khi đã quá hạn'
            WHEN o.late THEN 'đang giải quyết, đã yêu cầu bổ sung sau khi quá hạn'
            WHEN o.waiting THEN 'chờ bổ sung, yêu cầu trong hạn (dừng tính thời gian)'
            WHEN o.due_at IS NULL THEN 'đang giải quyết, không có hạn trả'
            WHEN o.due_at >= CAST(:start_next_ts AS timestamp) THEN 'đang giải quyết, chưa đến hạn'
            ELSE 'đang giải quyết, đã quá hạn' END
FROM ind_open o
JOIN ind_version v ON v.dossier_code = o.dossier_code
WHERE o.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
