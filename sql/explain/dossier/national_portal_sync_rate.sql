-- national_portal_sync_rate (measures/national_portal_sync_rate.sql): the dossiers received in
-- the period; in the numerator those whose state on D was accepted by the national portal by D.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, received_event, dossier_code, dossier_code, agency_code, 1,
       CASE WHEN synced_from <= CAST(:range_end AS date) THEN 1 ELSE 0 END,
       CASE WHEN synced_from <= CAST(:range_end AS date) THEN 'đã đồng bộ đầy đủ'
            ELSE 'thay đổi mới nhất chưa được Cổng DVCQG chấp nhận' END
FROM ind_sync
WHERE ind_sync.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
