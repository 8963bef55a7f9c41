-- online_payment_dossier_rate (measures/online_payment_dossier_rate.sql): the dossiers of
-- fee-bearing procedures received in the period; in the numerator those paid online by D
-- (DuocThanhToanTrucTuyen 1 or 2, or a successful online transaction).
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, v.received_event, v.dossier_code, v.dossier_code, v.agency_code, 1,
       CASE WHEN v.paid_flag OR t.paid_date <= CAST(:range_end AS date) THEN 1 ELSE 0 END,
       CASE WHEN v.paid_flag THEN 'đã thanh toán trực tuyến (DuocThanhToanTrucTuyen)'
            WHEN t.paid_date <= CAST(:range_end AS date) THEN 'có giao dịch thanh toán trực tuyến thành công'
            ELSE 'chưa thanh toán trực tuyến' END
FROM ind_recv v
JOIN core.procedure p ON p.procedure_code = v.procedure_code AND p.has_fee
LEFT JOIN ind_paid_tx t ON t.dossier_code = v.dossier_code
WHERE v.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
