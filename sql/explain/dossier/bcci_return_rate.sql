-- bcci_return_rate (measures/bcci_return_rate.sql): the dossiers whose processing ended in the
-- period; in the numerator those whose result goes by post (HinhThucTraKetQua 3) or with a VNPost
-- delivery order by D.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, v.ended_event, v.dossier_code, v.dossier_code, v.agency_code, 1,
       CASE WHEN v.result_channel = 3 OR o.deliver_date <= CAST(:range_end AS date) THEN 1 ELSE 0 END,
       CASE WHEN v.result_channel = 3 THEN 'trả kết quả qua bưu chính'
            WHEN o.deliver_date <= CAST(:range_end AS date) THEN 'có đơn phát kết quả VNPost'
            ELSE 'không trả kết quả qua bưu chính' END
FROM ind_ended v
LEFT JOIN ind_postal o ON o.dossier_code = v.dossier_code
WHERE v.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
