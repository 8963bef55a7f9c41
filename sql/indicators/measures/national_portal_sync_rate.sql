-- Tỷ lệ hồ sơ đồng bộ đầy đủ trên Cổng DVCQG: dossiers received in the period whose state as of
-- the snapshot date has been accepted by the national portal / dossiers received in the period.
-- "Fully synced": an accepted sync receipt (error_code 0) at or after the update that produced
-- the dossier's current version, by the end of the snapshot date (ind_sync.synced_from) -- a
-- dossier whose latest change has not reached the portal yet is not synced.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
SELECT CAST(:indicator_code AS text), agency_code, NULL, received_event, lo, hi, synced_from, CAST(NULL AS date),
       COUNT(*), COUNT(*)
FROM ind_sync
GROUP BY agency_code, received_event, lo, hi, synced_from;
