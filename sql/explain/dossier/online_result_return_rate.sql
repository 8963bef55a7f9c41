-- online_result_return_rate (measures/online_result_return_rate.sql): the dossiers whose processing
-- ended in the period; in the numerator those with HinhThucTraKetQua 2.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, ended_event, dossier_code, dossier_code, agency_code, 1,
       CASE WHEN result_channel = 2 THEN 1 ELSE 0 END,
       CASE WHEN result_channel = 2 THEN 'trả kết quả trực tuyến' ELSE 'không trả kết quả trực tuyến' END
FROM ind_ended
WHERE ind_ended.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
