-- Records stamped on each day a daily feed's batch is for, and how many of them were quarantined: one
-- day for a night's batch, each day of the span for a backfill's (python -m etl backfill loads a month's
-- days in one batch per source). The quality gates judge each day of a span from it. Written with the
-- batch's success, in the same transaction. ops.batch.first_day: the first of those days (a night's: its
-- own).
CREATE TABLE IF NOT EXISTS ops.day_records (
    batch_id    bigint NOT NULL,
    data_day    date NOT NULL,
    records     bigint NOT NULL,  -- the extracted records stamped on the day
    extracted   bigint NOT NULL,  -- the batch's extracted records counted for the day, and of them
    quarantined bigint NOT NULL,  -- the quarantined: a night's, all of its batch's; a span's earlier day,
                                  -- those stamped on it; a span's last day, all the others
    PRIMARY KEY (batch_id, data_day)
);

INSERT INTO ops.day_records (batch_id, data_day, records, extracted, quarantined)
SELECT batch_id, CAST(window_end AS date) - 1, day_records, COALESCE(extracted, 0), COALESCE(quarantined, 0)
FROM ops.batch
WHERE status = 'succeeded' AND window_end IS NOT NULL AND day_records IS NOT NULL
  AND batch_id NOT IN (SELECT batch_id FROM ops.day_records);

ALTER TABLE ops.batch ADD COLUMN IF NOT EXISTS first_day date;
UPDATE ops.batch SET first_day = CAST(window_end AS date) - 1 WHERE first_day IS NULL AND window_end IS NOT NULL;

-- mart.data_quality as in 0033, but lateness counts from the batch's first day: a backfill's month,
-- loaded at once on its last day, is not a month of late records. Its arrivals count on that last day.
CREATE OR REPLACE VIEW mart.data_quality AS
WITH batch_day AS NOT MATERIALIZED (
    SELECT batch_id, source, entity, status, extracted, day_records, pending, changed_from,
           CAST(window_end AS date) - 1 AS data_day, COALESCE(first_day, CAST(window_end AS date) - 1) AS first_day
    FROM ops.batch
    WHERE window_end IS NOT NULL
),
day_batches AS NOT MATERIALIZED (
    SELECT data_day, source, entity,
           COUNT(*) AS batches,
           MAX(batch_id) AS last_batch_id,
           MAX(CASE WHEN status = 'succeeded' THEN batch_id END) AS last_success_id
    FROM batch_day
    GROUP BY data_day, source, entity
),
-- A row loaded by the batch of day D whose change time is before D arrived late by the difference (a
-- backfill's batch, loaded at once for the days first_day .. D: late if changed before first_day).
arrivals AS (
    SELECT b.data_day, b.source, b.entity, h.agency_code, b.first_day - CAST(h.updated_at AS date) AS days_late
    FROM core.dossier_history h JOIN batch_day b ON b.batch_id = h.batch_id
    UNION ALL
    SELECT b.data_day, b.source, b.entity, d.agency_code, b.first_day - CAST(p.updated_at AS date)
    FROM core.payment p JOIN batch_day b ON b.batch_id = p.batch_id
    JOIN core.dossier d ON d.dossier_code = p.dossier_code
    UNION ALL
    SELECT b.data_day, b.source, b.entity, d.agency_code, b.first_day - CAST(o.updated_at AS date)
    FROM core.postal_order o JOIN batch_day b ON b.batch_id = o.batch_id
    JOIN core.dossier d ON d.dossier_code = o.dossier_code
),
-- Each dossier changed on a day, in its state at the end of that day.
day_state AS (
    SELECT CAST(h.updated_at AS date) AS data_day, h.agency_code,
           CASE WHEN h.status IN (2, 4, 5, 6, 8, 9, 10) AND h.received_at IS NULL THEN 1 ELSE 0 END AS no_received,
           CASE WHEN h.status IN (2, 4, 5, 6, 8, 9, 10) AND h.received_at IS NOT NULL AND h.due_at IS NULL
                THEN 1 ELSE 0 END AS no_due,
           CASE WHEN (h.status = 9 AND h.finished_at IS NULL)
                  OR (h.status = 10 AND h.finished_at IS NULL AND h.returned_at IS NULL)
                  OR (h.status = 3 AND h.rejected_at IS NULL) THEN 1 ELSE 0 END AS no_end
    FROM core.dossier_history h
    WHERE h.valid_to IS NULL OR h.valid_to >= CAST(CAST(h.updated_at AS date) + 1 AS timestamp)
),
-- Each dossier version and the first sync of it (or of a later change) the portal accepted.
synced AS (
    SELECT h.dossier_code, h.updated_at, h.agency_code, MIN(r.synced_at) AS first_accepted_at
    FROM core.dossier_history h
    LEFT JOIN core.sync_receipt r
      ON r.dossier_code = h.dossier_code AND r.error_code = 0 AND r.synced_at >= h.updated_at
    GROUP BY h.dossier_code, h.updated_at, h.agency_code
),
facts AS NOT MATERIALIZED (
    SELECT data_day, source, entity, agency_code, 1 AS is_new, CASE WHEN days_late > 0 THEN 1 ELSE 0 END AS is_late,
           CASE WHEN days_late > 0 THEN days_late END AS days_late,
           CAST(NULL AS integer) AS checked, CAST(NULL AS integer) AS no_received, CAST(NULL AS integer) AS no_due,
           CAST(NULL AS integer) AS no_end, CAST(NULL AS integer) AS versions, CAST(NULL AS integer) AS versions_synced,
           CAST(NULL AS double precision) AS lag_hours
    FROM arrivals
    UNION ALL
    SELECT data_day, 'onestop', 'dossier', agency_code, NULL, NULL, NULL, 1, no_received, no_due, no_end,
           NULL, NULL, NULL
    FROM day_state
    UNION ALL
    SELECT CAST(updated_at AS date), 'ndxp', 'sync_receipt', agency_code, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1,
           CASE WHEN first_accepted_at IS NULL THEN 0 ELSE 1 END,
           CAST(EXTRACT(epoch FROM (first_accepted_at - updated_at)) AS double precision) / 3600
    FROM synced
),
-- Per agency, and per source (the median lag is not a sum of the agencies' medians). Two GROUP BYs,
-- not GROUPING SETS: PostgreSQL (before 18) pushes no filter on data_day into grouping sets.
by_agency AS (
    SELECT data_day, source, entity, agency_code,
           SUM(is_new) AS records_new,
           SUM(is_late) AS late_records,
           MAX(days_late) AS late_max_days,
           AVG(CAST(days_late AS double precision)) AS late_avg_days,
           SUM(checked) AS dossiers_checked,
           SUM(no_received) AS missing_received_at,
           SUM(no_due) AS missing_due_at,
           SUM(no_end) AS missing_end_date,
           SUM(CASE WHEN no_received + no_due + no_end > 0 THEN 1 WHEN checked = 1 THEN 0 END) AS missing_key_dates,
           SUM(versions) AS versions_changed,
           SUM(versions_synced) AS versions_synced,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_hours) AS sync_lag_median_hours,
           MAX(lag_hours) AS sync_lag_max_hours
    FROM facts
    GROUP BY data_day, source, entity, agency_code
),
by_source AS NOT MATERIALIZED (
    SELECT data_day, source, entity,
           SUM(is_new) AS records_new,
           SUM(is_late) AS late_records,
           MAX(days_late) AS late_max_days,
           AVG(CAST(days_late AS double precision)) AS late_avg_days,
           SUM(checked) AS dossiers_checked,
           SUM(no_received) AS missing_received_at,
           SUM(no_due) AS missing_due_at,
           SUM(no_end) AS missing_end_date,
           SUM(CASE WHEN no_received + no_due + no_end > 0 THEN 1 WHEN checked = 1 THEN 0 END) AS missing_key_dates,
           SUM(versions) AS versions_changed,
           SUM(versions_synced) AS versions_synced,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_hours) AS sync_lag_median_hours,
           MAX(lag_hours) AS sync_lag_max_hours
    FROM facts
    GROUP BY data_day, source, entity
),
quarantine_day AS (
    SELECT data_day, source, entity,
           SUM(quarantined) AS quarantined_by_reason,
           string_agg(reason || ': ' || CAST(quarantined AS text), '; ' ORDER BY quarantined DESC, reason)
               AS quarantine_reasons
    FROM mart.data_quality_reason
    GROUP BY data_day, source, entity
),
quarantine_records AS (
    SELECT CAST(b.window_end AS date) - 1 AS data_day, q.source, q.entity,
           COUNT(*) AS quarantined, COUNT(*) - COUNT(q.resolved_at) AS quarantined_unresolved
    FROM ops.quarantine q
    JOIN ops.batch b ON b.batch_id = COALESCE(q.first_batch_id, q.batch_id)
    WHERE b.window_end IS NOT NULL
    GROUP BY CAST(b.window_end AS date) - 1, q.source, q.entity
),
pending_now AS (
    SELECT first_seen_day AS data_day, source, entity, COUNT(*) AS pending_now
    FROM ops.pending
    GROUP BY first_seen_day, source, entity
),
source_keys AS (
    SELECT data_day, source, entity FROM day_batches
    UNION
    SELECT data_day, source, entity FROM by_source
),
source_rows AS (
    SELECT k.data_day, k.source, k.entity, CAST(NULL AS text) AS agency_code,
           d.batches, d.last_batch_id, lb.status AS last_batch_status,
           sb.extracted AS records_extracted, sb.day_records AS records_of_day,
           -- a day's batch that loaded nothing new: 0 for the entities whose arrivals are counted
           CASE WHEN sb.batch_id IS NOT NULL AND k.entity IN ('dossier', 'payment', 'postal_order')
                THEN COALESCE(g.records_new, 0) ELSE g.records_new END AS records_new,
           CASE WHEN sb.batch_id IS NOT NULL AND k.entity IN ('dossier', 'payment', 'postal_order')
                THEN COALESCE(g.late_records, 0) ELSE g.late_records END AS late_records,
           -- sync receipts and PayGov transactions keep no loading batch: their latest arrival is
           -- the earliest change time the day's batch loaded (their only stamp is the event's)
           COALESCE(g.late_max_days,
                    CASE WHEN k.entity IN ('sync_receipt', 'paygov_transaction') AND sb.changed_from < CAST(sb.first_day AS timestamp)
                         THEN sb.first_day - CAST(sb.changed_from AS date) END) AS late_max_days,
           g.late_avg_days,
           sb.pending AS pending_after_batch, p.pending_now,
           qr.quarantined, qr.quarantined_unresolved, qd.quarantine_reasons,
           g.dossiers_checked, g.missing_received_at, g.missing_due_at, g.missing_end_date, g.missing_key_dates,
           g.versions_changed, g.versions_synced, g.sync_lag_median_hours, g.sync_lag_max_hours
    FROM source_keys k
    LEFT JOIN day_batches d ON d.data_day = k.data_day AND d.source = k.source AND d.entity = k.entity
    LEFT JOIN batch_day lb ON lb.batch_id = d.last_batch_id
    LEFT JOIN batch_day sb ON sb.batch_id = d.last_success_id
    LEFT JOIN by_source g ON g.data_day = k.data_day AND g.source = k.source AND g.entity = k.entity
    LEFT JOIN pending_now p ON p.data_day = k.data_day AND p.source = k.source AND p.entity = k.entity
    LEFT JOIN quarantine_records qr ON qr.data_day = k.data_day AND qr.source = k.source AND qr.entity = k.entity
    LEFT JOIN quarantine_day qd ON qd.data_day = k.data_day AND qd.source = k.source AND qd.entity = k.entity
),
agency_rows AS (
    SELECT g.data_day, g.source, g.entity, g.agency_code,
           CAST(NULL AS bigint) AS batches, CAST(NULL AS bigint) AS last_batch_id, CAST(NULL AS text) AS last_batch_status,
           CAST(NULL AS bigint) AS records_extracted, CAST(NULL AS bigint) AS records_of_day,
           g.records_new, g.late_records, g.late_max_days, g.late_avg_days,
           CAST(NULL AS bigint) AS pending_after_batch, CAST(NULL AS bigint) AS pending_now,
           CAST(NULL AS bigint) AS quarantined, CAST(NULL AS bigint) AS quarantined_unresolved,
           CAST(NULL AS text) AS quarantine_reasons,
           g.dossiers_checked, g.missing_received_at, g.missing_due_at, g.missing_end_date, g.missing_key_dates,
           g.versions_changed, g.versions_synced, g.sync_lag_median_hours, g.sync_lag_max_hours
    FROM by_agency g
),
all_rows AS (
    SELECT * FROM source_rows
    UNION ALL
    SELECT * FROM agency_rows
)
SELECT r.data_day,
       r.source,
       r.entity,
       r.agency_code,
       COALESCE(a.name, CASE WHEN r.agency_code IS NULL THEN 'Toàn nguồn dữ liệu' END) AS agency_name,
       a.level_label,
       r.batches,
       r.last_batch_id,
       r.last_batch_status,
       r.records_extracted,
       r.records_of_day,
       r.records_new,
       r.late_records,
       CASE WHEN r.records_new > 0 THEN CAST(r.late_records AS double precision) / r.records_new END AS late_share,
       r.late_max_days,
       r.late_avg_days,
       r.pending_after_batch,
       r.pending_now,
       r.quarantined,
       r.quarantined_unresolved,
       r.quarantine_reasons,
       r.dossiers_checked,
       r.missing_received_at,
       r.missing_due_at,
       r.missing_end_date,
       r.missing_key_dates,
       CASE WHEN r.dossiers_checked > 0 THEN CAST(r.missing_key_dates AS double precision) / r.dossiers_checked
       END AS missing_key_dates_share,
       r.versions_changed,
       r.versions_synced,
       r.versions_changed - r.versions_synced AS versions_not_synced,
       r.sync_lag_median_hours,
       r.sync_lag_max_hours
FROM all_rows r
LEFT JOIN mart.agency a ON a.agency_code = r.agency_code;
