-- Tỷ lệ hồ sơ đồng bộ đầy đủ trên Cổng DVCQG: dossiers received in the period whose state as of
-- the snapshot date has been accepted by the national portal / dossiers received in the period.
-- "Fully synced": an accepted sync receipt (error_code 0) at or after the update that produced
-- the dossier's current version, by the end of the snapshot date -- a dossier whose latest change
-- has not reached the portal yet is not synced.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
WITH synced AS (
    SELECT x.dossier_code, x.updated_at,
           GREATEST(CAST(MIN(r.synced_at) AS date), CAST(:range_start AS date)) AS synced_date
    FROM ind_version x
    JOIN core.sync_receipt r
      ON r.dossier_code = x.dossier_code AND r.error_code = 0 AND r.synced_at >= x.updated_at
    WHERE x.is_received
    GROUP BY x.dossier_code, x.updated_at
),
v AS (
    -- a version synced by its first day is synced on all its days
    SELECT v.dossier_code, v.agency_code, v.received_event, v.lo, v.hi,
           CASE WHEN s.synced_date <= v.lo THEN DATE '1900-01-01' ELSE s.synced_date END AS num_lo
    FROM ind_version v
    LEFT JOIN synced s ON s.dossier_code = v.dossier_code AND s.updated_at = v.updated_at
    WHERE v.is_received
),
flagged AS (
    -- consecutive versions that are the same here merge into one run (see ind_recv in prepare.sql)
    SELECT v.*,
           CASE WHEN LAG(v.hi) OVER w = v.lo - 1
                 AND LAG(v.agency_code) OVER w = v.agency_code
                 AND LAG(v.received_event) OVER w = v.received_event
                 AND LAG(v.num_lo) OVER w IS NOT DISTINCT FROM v.num_lo
                THEN 0 ELSE 1 END AS starts
    FROM v
    WINDOW w AS (PARTITION BY v.dossier_code ORDER BY v.lo)
),
runs AS (
    SELECT f.*, SUM(f.starts) OVER (PARTITION BY f.dossier_code ORDER BY f.lo
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
    FROM flagged f
),
merged AS (
    SELECT agency_code, received_event, num_lo, MIN(lo) AS lo, MAX(hi) AS hi
    FROM runs
    GROUP BY dossier_code, run, agency_code, received_event, num_lo
)
SELECT 'national_portal_sync_rate', agency_code, NULL, received_event, lo, hi, num_lo, CAST(NULL AS date),
       COUNT(*), COUNT(*)
FROM merged
GROUP BY agency_code, received_event, lo, hi, num_lo;
