-- fee_online_payment_enabled_rate (measures/fee_online_payment_enabled_rate.sql): the services of
-- fee-bearing procedures (configuration valid on D, any level); in the numerator those with online
-- payment deployed (CoThanhToanTrucTuyen). The same in every period.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis, dossiers, hits)
SELECT CAST(:indicator_code AS text), NULL, CAST(NULL AS date), procedure_code, NULL, agency_code, 1,
       CASE WHEN online_payment THEN 1 ELSE 0 END,
       CASE WHEN online_payment THEN 'đã triển khai thanh toán trực tuyến' ELSE 'chưa triển khai thanh toán trực tuyến' END,
       CAST(NULL AS bigint), CAST(NULL AS bigint)
FROM ind_config
WHERE has_fee;
