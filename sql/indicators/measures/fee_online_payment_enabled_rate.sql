-- Tỷ lệ TTHC có nghĩa vụ tài chính được triển khai thanh toán trực tuyến: services of fee-bearing
-- procedures (CoPhiLePhi) with online payment deployed (CoThanhToanTrucTuyen) / services of
-- fee-bearing procedures, in the configuration valid on the snapshot date (any service level).
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, CAST(NULL AS date), lo, hi,
       CASE WHEN online_payment THEN DATE '1900-01-01' END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM ind_config
WHERE has_fee
GROUP BY agency_code, lo, hi, CASE WHEN online_payment THEN DATE '1900-01-01' END;
