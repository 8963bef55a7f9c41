-- The dossiers an incremental run reads (versions.sql reads ind_history). The run covers
-- [:range_start, :range_end] where :range_start is a date already published and still current;
-- each later date's figure is then that date's published one plus the change, over these
-- dossiers, from :range_start to the date (etl/indicators.py, incremental.sql). So they must be
-- every dossier whose part in some figure can differ between :range_start and a later date of
-- the range. An event before :events_from_ts (:range_start, or the first of its month or quarter
-- where the range starts a month or a quarter: etl/indicators.py, events_from) stays in the same
-- periods, and the range lies in one year:
DROP VIEW IF EXISTS ind_history;
DROP TABLE IF EXISTS ind_changed;
CREATE TEMPORARY TABLE ind_changed AS
-- a version written on a date of the range (it starts a run of dates and ends its predecessor's)
-- or after it (core.dossier holds the latest), or in force over the range with an event from
-- :events_from_ts (it enters a period, or leaves :range_start's day, month or quarter), or a due
-- date passing within it
SELECT dossier_code FROM core.dossier
WHERE updated_at >= CAST(:start_ts AS timestamp)
   OR received_at >= CAST(:events_from_ts AS timestamp) OR finished_at >= CAST(:events_from_ts AS timestamp)
   OR returned_at >= CAST(:events_from_ts AS timestamp) OR rejected_at >= CAST(:events_from_ts AS timestamp)
   OR (due_at >= CAST(:start_next_ts AS timestamp) AND due_at < CAST(:end_next_ts AS timestamp))
UNION
-- evidence from the other systems dated after :range_start: a national-portal sync, a postal order
SELECT dossier_code FROM core.sync_receipt
WHERE error_code = 0
  AND synced_at >= CAST(:start_next_ts AS timestamp) AND synced_at < CAST(:end_next_ts AS timestamp)
UNION
-- a successful payment transaction (online evidence, and a transaction counted by the period's
-- transactions) from :events_from_ts, as for a dossier's events
SELECT dossier_code FROM core.payment
WHERE status IN ('paid', 'refunded')
  AND transaction_at >= CAST(:events_from_ts AS timestamp) AND transaction_at < CAST(:end_next_ts AS timestamp)
UNION
SELECT dossier_code FROM core.paygov_transaction
WHERE error_code = '00'
  AND transaction_at >= CAST(:events_from_ts AS timestamp) AND transaction_at < CAST(:end_next_ts AS timestamp)
UNION
SELECT dossier_code FROM core.postal_order
WHERE collection_status <> 4
  AND created_at >= CAST(:start_next_ts AS timestamp) AND created_at < CAST(:end_next_ts AS timestamp);

-- "Services with at least one dossier" are not sums over dossiers: whether a service has one on a
-- date needs its other dossiers too. Those that did not change count the same on every date of the
-- range, so for every service one of these dossiers belongs to, and every set of periods its receipt
-- counts in, one unchanged dossier for each thing the service measures (those inserting into
-- ind_service_fact) ask of a dossier suffices: any dossier, an online one, one paid online or with
-- online-payment evidence by :range_start, one by post or with a postal order by then. With it in the
-- run, whether the service has such a dossier cannot change over the range. A service measure asking
-- anything else must add it here.
INSERT INTO ind_changed (dossier_code)
WITH evidence AS (
    -- per dossier, whether it is listed above (changed), was paid online or has online-payment
    -- evidence by :range_start (paid), a postal order by then (posted): one row a dossier, so that the
    -- year's versions below probe one table rather than three (15 million versions at the country's volume)
    SELECT dossier_code, MAX(changed) AS changed, MAX(paid) AS paid, MAX(posted) AS posted
    FROM (
        SELECT dossier_code, 1 AS changed, 0 AS paid, 0 AS posted FROM ind_changed
        UNION ALL
        SELECT dossier_code, 0, 1, 0 FROM core.payment
        WHERE method = 2 AND status IN ('paid', 'refunded') AND transaction_at < CAST(:start_next_ts AS timestamp)
        UNION ALL
        SELECT dossier_code, 0, 1, 0 FROM core.paygov_transaction
        WHERE error_code = '00' AND transaction_at < CAST(:start_next_ts AS timestamp)
        UNION ALL
        SELECT dossier_code, 0, 0, 1 FROM core.postal_order
        WHERE collection_status <> 4 AND service_type IN ('THU_GOM', 'PHAT_KQ')
          AND created_at < CAST(:start_next_ts AS timestamp)
    ) e
    GROUP BY dossier_code
),
v AS (
    -- the year's versions in force over the range (or later) of the dossiers above, and the latest of the others
    SELECT h.agency_code, h.procedure_code, h.received_at,
           COALESCE(e.changed, 0) = 1 AND h.updated_at < CAST(:end_next_ts AS timestamp) AS of_changed,
           CASE WHEN COALESCE(e.changed, 0) = 0 AND h.valid_to IS NULL AND h.status NOT IN (1, 3)
                THEN h.dossier_code END AS unchanged,
           h.channel, h.result_channel, h.paid_online,
           COALESCE(e.paid, 0) = 1 AS paid, COALESCE(e.posted, 0) = 1 AS posted
    FROM core.dossier_history h
    LEFT JOIN evidence e ON e.dossier_code = h.dossier_code
    WHERE h.received_at >= CAST(:cal_start_ts AS timestamp)
      AND (h.valid_to IS NULL
           OR (h.valid_to >= CAST(:start_next_ts AS timestamp) AND h.updated_at < CAST(:end_next_ts AS timestamp)))
),
kinds AS (
    -- per agency, procedure and the periods a receipt counts in on the range's dates (the month, the
    -- quarter or only the year): whether a changed dossier is there, and one unchanged dossier per question
    SELECT agency_code, procedure_code, MAX(CASE WHEN of_changed THEN 1 ELSE 0 END) AS touched,
           MIN(unchanged) AS any_dossier,
           MIN(CASE WHEN channel = 2 THEN unchanged END) AS online,
           MIN(CASE WHEN COALESCE(paid_online, 0) IN (1, 2) OR paid THEN unchanged END) AS paid_online,
           MIN(CASE WHEN channel = 3 OR result_channel = 3 OR posted THEN unchanged END) AS by_post
    FROM v
    GROUP BY agency_code, procedure_code,
             CASE WHEN received_at >= CAST(date_trunc('month', CAST(:start_ts AS timestamp)) AS timestamp) THEN 0
                  WHEN received_at >= CAST(date_trunc('quarter', CAST(:start_ts AS timestamp)) AS timestamp) THEN 1
                  ELSE 2 END
),
touched AS (
    -- the services (the agency mapped to its successor) a changed dossier belongs to
    SELECT DISTINCT m.mapped_code, k.procedure_code
    FROM kinds k
    JOIN ind_agency_map m ON m.agency_code = k.agency_code
    WHERE k.touched = 1
),
chosen AS (
    SELECT k.any_dossier, k.online, k.paid_online, k.by_post
    FROM kinds k
    JOIN ind_agency_map m ON m.agency_code = k.agency_code
    JOIN touched t ON t.mapped_code = m.mapped_code AND t.procedure_code = k.procedure_code
)
-- a dossier that answers one of the questions answers "any dossier" too
SELECT online FROM chosen WHERE online IS NOT NULL
UNION
SELECT paid_online FROM chosen WHERE paid_online IS NOT NULL
UNION
SELECT by_post FROM chosen WHERE by_post IS NOT NULL
UNION
SELECT any_dossier FROM chosen
WHERE any_dossier IS NOT NULL AND online IS NULL AND paid_online IS NULL AND by_post IS NULL;

CREATE TEMPORARY VIEW ind_history AS
SELECT h.* FROM core.dossier_history h
WHERE h.dossier_code IN (SELECT dossier_code FROM ind_changed);
