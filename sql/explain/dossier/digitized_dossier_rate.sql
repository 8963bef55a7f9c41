-- digitized_dossier_rate (measures/digitized_dossier_rate.sql): the dossiers received in the
-- period; in the numerator those with digitized components (HoSoCoThanhPhanSoHoa).
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, received_event, dossier_code, dossier_code, agency_code, 1,
       CASE WHEN has_digitized_components THEN 1 ELSE 0 END,
       CASE WHEN has_digitized_components THEN 'có thành phần số hóa' ELSE 'không có thành phần số hóa' END
FROM ind_recv
WHERE ind_recv.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
