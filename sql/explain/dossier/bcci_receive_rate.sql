-- bcci_receive_rate (measures/bcci_receive_rate.sql): the dossiers received in the period; in the
-- numerator those submitted by post (KenhThucHien 3) or with a VNPost collection order by D.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, v.received_event, v.dossier_code, v.dossier_code, v.agency_code, 1,
       CASE WHEN v.channel = 3 OR o.collect_date <= CAST(:range_end AS date) THEN 1 ELSE 0 END,
       CASE WHEN v.channel = 3 THEN 'nộp qua bưu chính'
            WHEN o.collect_date <= CAST(:range_end AS date) THEN 'có đơn thu gom VNPost'
            ELSE 'không qua bưu chính' END
FROM ind_recv v
LEFT JOIN ind_postal o ON o.dossier_code = v.dossier_code
WHERE v.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
