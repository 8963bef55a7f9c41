-- online_payment_transaction_rate (measures/online_payment_transaction_rate.sql): the successful
-- payment transactions of the period (by ThoiGianGD), at the agency of their dossier (ind_transaction,
-- sql/indicators/versions.sql); in the numerator the online ones.
INSERT INTO exp_item (indicator_code, period, event_date, item_code, dossier_code, agency_code, in_den, in_num, basis)
SELECT CAST(:indicator_code AS text), NULL, CAST(t.transaction_at AS date), t.transaction_id, t.dossier_code,
       t.agency_code, 1, CASE WHEN t.online THEN 1 ELSE 0 END,
       CASE WHEN NOT t.one_stop THEN 'thanh toán trực tuyến (PayGov, không có ở một cửa)'
            WHEN t.online THEN 'thanh toán trực tuyến (một cửa)'
            ELSE 'thanh toán trực tiếp (một cửa)' END
FROM ind_transaction t
WHERE t.agency_code IN (SELECT agency_code FROM exp_agency WHERE indicator_code = CAST(:indicator_code AS text));
