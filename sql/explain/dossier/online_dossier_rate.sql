-- online_dossier_rate (measures/online_dossier_rate.sql): the dossiers received in the period;
-- in the numerator those submitted online (KenhThucHien 2).
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, received_event, dossier_code, dossier_code, agency_code, 1,
       CASE WHEN channel = 2 THEN 1 ELSE 0 END,
       CASE WHEN channel = 2 THEN 'nộp trực tuyến' WHEN channel = 3 THEN 'nộp qua bưu chính'
            ELSE 'nộp trực tiếp' END
FROM ind_recv
WHERE ind_recv.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
