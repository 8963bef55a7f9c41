-- The dossiers' working tables of a run over [:range_start, :range_end], after prepare.sql: every
-- dossier version in force on a date of the range, seen by each family of measures, and the other
-- systems' evidence per dossier. The versions are read from ind_history: all of
-- core.dossier_history (scope_all.sql) or the dossiers an incremental run needs (scope_changed.sql).
-- Parameters: as prepare.sql, and want_<indicator> for every indicator, true when the run computes it
-- (etl.indicators.prepare): the tables only some indicators read are filled only for them (a drill-down
-- prepares its figures' indicators; the nightly run computes every one).

-- Every dossier version that is the state at the end of at least one snapshot date of the
-- range, with the dates it is that state for: [lo, hi] (a version written on day W and
-- replaced on day R (R > W) is the end-of-day state for W .. R-1; one replaced the same day is
-- never an end-of-day state). Versions without a receipt date count in no indicator, and
-- versions received and ended before this calendar year count in no period of the range.
DROP TABLE IF EXISTS ind_version;
CREATE TEMPORARY TABLE ind_version AS
WITH v AS (
    SELECT
        h.dossier_code,
        h.updated_at,
        h.procedure_code,
        h.agency_code,
        h.channel,                      -- 1 counter (also a NULL KenhThucHien), 2 online, 3 post
        h.status,
        h.result_channel,
        h.received_at,
        h.due_at,
        h.supplement_count,
        -- the clock stops at a supplement request, not before: one made after the due date then in
        -- force (NgayHenTraCu; NgayHenTra if absent) leaves the dossier late while it waits and after
        COALESCE(h.supplement_requested_at > COALESCE(h.supplement_due_at, h.due_at), FALSE) AS requested_late,
        COALESCE(h.has_digitized_components, FALSE) AS has_digitized_components,
        COALESCE(h.result_digitized, FALSE) AS result_digitized,
        COALESCE(h.digitally_signed, FALSE) AS digitally_signed,
        COALESCE(h.paid_online, 0) IN (1, 2) AS paid_flag,
        -- received: has a receipt date and is neither merely registered (1) nor not accepted (3)
        h.status NOT IN (1, 3) AS is_received,
        -- processing ends at the first of processed (9), returned (10), stopped or refused (8, 3)
        CASE WHEN h.status IN (9, 10) THEN COALESCE(h.finished_at, h.returned_at)
             WHEN h.status IN (3, 8) THEN COALESCE(h.finished_at, h.rejected_at)
        END AS ended_at,
        GREATEST(CAST(h.updated_at AS date), CAST(:range_start AS date)) AS lo,
        LEAST(COALESCE(CAST(h.valid_to AS date) - 1, CAST(:range_end AS date)), CAST(:range_end AS date)) AS hi,
        -- as the source has them, for the drill-down's listing (sql/explain/list_dossier.sql), which joined the
        -- whole history again for them (the listing of a year-end report at 15 million a year: 225 s, 107-143 s now)
        h.supplement_requested_at, h.supplement_due_at, h.paid_online, h.fee_amount,
        h.has_digitized_components AS has_digitized_components_given,
        h.result_digitized AS result_digitized_given, h.digitally_signed AS digitally_signed_given
    FROM ind_history h
    WHERE h.received_at IS NOT NULL
      AND h.updated_at < CAST(:end_next_ts AS timestamp)
      AND (h.valid_to IS NULL OR h.valid_to >= CAST(:start_next_ts AS timestamp))
)
SELECT v.*,
       CAST(v.received_at AS date) AS received_date,
       -- the event dates the measures count by: before the range only the month of an event
       -- matters (it decides which mtd/qtd/ytd windows still contain it), so such events are
       -- moved to the first of their month and facts that differ only by them collapse
       CASE WHEN v.received_at < CAST(:start_ts AS timestamp)
            THEN CAST(date_trunc('month', v.received_at) AS date)
            ELSE CAST(v.received_at AS date) END AS received_event,
       CASE WHEN v.ended_at < CAST(:start_ts AS timestamp)
            THEN CAST(date_trunc('month', v.ended_at) AS date)
            ELSE CAST(v.ended_at AS date) END AS ended_event,
       (v.ended_at IS NULL AND v.is_received AND v.status <> 7) AS is_open
FROM v
WHERE v.lo <= v.hi
  AND (v.ended_at IS NULL OR v.ended_at >= CAST(:cal_start_ts AS timestamp)
       OR v.received_at >= CAST(:cal_start_ts AS timestamp));

-- Each received version's first sync accepted by the national portal at or after the change that
-- produced it. A table, not part of ind_run: the drill-down shows it too (sql/explain/scope.sql), and
-- joining the year's receipts again cost it about 5 s at the year's end on PostgreSQL. Only the sync
-- family reads it (ind_sync).
DROP TABLE IF EXISTS ind_synced;
CREATE TEMPORARY TABLE ind_synced AS
SELECT x.dossier_code, x.updated_at, MIN(r.synced_at) AS synced_at
FROM ind_version x
JOIN core.sync_receipt r
  ON r.dossier_code = x.dossier_code AND r.error_code = 0 AND r.synced_at >= x.updated_at
WHERE x.is_received
  AND CAST(:want_national_portal_sync_rate AS boolean)
GROUP BY x.dossier_code, x.updated_at;

-- The versions as each family of measures sees them: consecutive versions of a dossier that
-- look the same to the family are merged into one run of dates [lo, hi] (a dossier going
-- processing -> awaiting payment -> processing changes nothing on the receipt side), so that the
-- measures' facts are per run, not per version, and runs of different dossiers collapse. The
-- families: recv (the dossier as received), ended (once its processing ended), open (received,
-- not ended, not withdrawn) and sync (as received, with the first date its state is accepted by
-- the national portal: an accepted sync receipt at or after the change that produced the
-- version; a version synced by its first day is synced on all its days).
-- One pass over each dossier's versions in order numbers every family's runs (ind_run): a run
-- starts where the previous version is not on the day before, is not in the family, or differs
-- in a column the family reads. Each family's table then merges its runs.
-- A version in force on every date of the range is its dossier's only one (`alone`): its runs are
-- itself, numbered without sorting or grouping. In a single date's run (the drill-down, a date
-- published alone) every version is: sorting and grouping them all took 226 s of the drill-down's
-- preparation at the end of a year of 15 million dossiers (docs/benchmarks.md), about 70 s now.
DROP TABLE IF EXISTS ind_run;
CREATE TEMPORARY TABLE ind_run AS
WITH v AS NOT MATERIALIZED (  -- read by both branches below: inlined, not written out whole
    SELECT v.dossier_code, v.agency_code, v.procedure_code, v.received_date, v.received_event, v.channel,
           v.result_channel, v.has_digitized_components, v.paid_flag, v.ended_event, v.result_digitized,
           v.digitally_signed, v.due_at, v.lo, v.hi, v.is_received, v.is_open,
           v.ended_at IS NOT NULL AS is_ended,
           v.supplement_count <= 1 AND NOT v.requested_late AND (v.due_at IS NULL OR v.ended_at <= v.due_at) AS on_time,
           v.supplement_count > 1 OR v.requested_late AS late,
           v.status = 5 AS waiting,
           -- lo is never before the range's start: a sync before it counts from the range's first day
           CASE WHEN CAST(s.synced_at AS date) <= v.lo THEN DATE '1900-01-01'
                ELSE CAST(s.synced_at AS date) END AS synced_from,
           v.lo = CAST(:range_start AS date) AND v.hi = CAST(:range_end AS date) AS alone
    FROM ind_version v
    LEFT JOIN ind_synced s ON s.dossier_code = v.dossier_code AND s.updated_at = v.updated_at
),
same AS (
    -- the previous version, on the day before, with the same agency, is the same for the family
    SELECT v.*,
           LAG(v.hi) OVER w = v.lo - 1 AND LAG(v.agency_code) OVER w = v.agency_code AS follows,
           LAG(v.is_received) OVER w
             AND LAG(v.procedure_code) OVER w = v.procedure_code
             AND LAG(v.received_date) OVER w = v.received_date
             AND LAG(v.received_event) OVER w = v.received_event
             AND LAG(v.channel) OVER w = v.channel
             AND LAG(v.result_channel) OVER w IS NOT DISTINCT FROM v.result_channel
             AND LAG(v.has_digitized_components) OVER w = v.has_digitized_components
             AND LAG(v.paid_flag) OVER w = v.paid_flag AS same_recv,
           LAG(v.is_ended) OVER w
             AND LAG(v.ended_event) OVER w = v.ended_event
             AND LAG(v.result_channel) OVER w IS NOT DISTINCT FROM v.result_channel
             AND LAG(v.result_digitized) OVER w = v.result_digitized
             AND LAG(v.digitally_signed) OVER w = v.digitally_signed
             AND LAG(v.on_time) OVER w = v.on_time AS same_ended,
           LAG(v.is_open) OVER w
             AND LAG(v.late) OVER w = v.late
             AND LAG(v.waiting) OVER w = v.waiting
             AND LAG(v.due_at) OVER w IS NOT DISTINCT FROM v.due_at AS same_open,
           LAG(v.is_received) OVER w
             AND LAG(v.received_event) OVER w = v.received_event
             AND LAG(v.synced_from) OVER w IS NOT DISTINCT FROM v.synced_from AS same_sync
    FROM v
    WHERE NOT v.alone
    WINDOW w AS (PARTITION BY v.dossier_code ORDER BY v.lo)
)
SELECT s.dossier_code, s.agency_code, s.procedure_code, s.received_date, s.received_event, s.channel,
       s.result_channel, s.has_digitized_components, s.paid_flag, s.ended_event, s.result_digitized,
       s.digitally_signed, s.on_time, s.late, s.waiting, s.due_at, s.synced_from, s.lo, s.hi,
       s.is_received, s.is_ended, s.is_open, s.alone,
       SUM(CASE WHEN s.follows AND s.same_recv THEN 0 ELSE 1 END) OVER w AS recv_run,
       SUM(CASE WHEN s.follows AND s.same_ended THEN 0 ELSE 1 END) OVER w AS ended_run,
       SUM(CASE WHEN s.follows AND s.same_open THEN 0 ELSE 1 END) OVER w AS open_run,
       SUM(CASE WHEN s.follows AND s.same_sync THEN 0 ELSE 1 END) OVER w AS sync_run
FROM same s
WINDOW w AS (PARTITION BY s.dossier_code ORDER BY s.lo ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
UNION ALL
SELECT v.dossier_code, v.agency_code, v.procedure_code, v.received_date, v.received_event, v.channel,
       v.result_channel, v.has_digitized_components, v.paid_flag, v.ended_event, v.result_digitized,
       v.digitally_signed, v.on_time, v.late, v.waiting, v.due_at, v.synced_from, v.lo, v.hi,
       v.is_received, v.is_ended, v.is_open, v.alone, 1, 1, 1, 1
FROM v
WHERE v.alone;

DROP TABLE IF EXISTS ind_recv;
CREATE TEMPORARY TABLE ind_recv AS
SELECT dossier_code, agency_code, procedure_code, received_date, received_event, channel, result_channel,
       has_digitized_components, paid_flag, MIN(lo) AS lo, MAX(hi) AS hi
FROM ind_run
WHERE is_received AND NOT alone
GROUP BY dossier_code, recv_run, agency_code, procedure_code, received_date, received_event, channel,
         result_channel, has_digitized_components, paid_flag
UNION ALL
SELECT dossier_code, agency_code, procedure_code, received_date, received_event, channel, result_channel,
       has_digitized_components, paid_flag, lo, hi
FROM ind_run
WHERE is_received AND alone;

DROP TABLE IF EXISTS ind_ended;
CREATE TEMPORARY TABLE ind_ended AS
SELECT dossier_code, agency_code, ended_event, result_channel, result_digitized, digitally_signed, on_time,
       MIN(lo) AS lo, MAX(hi) AS hi
FROM ind_run
WHERE is_ended AND NOT alone
GROUP BY dossier_code, ended_run, agency_code, ended_event, result_channel, result_digitized, digitally_signed,
         on_time
UNION ALL
SELECT dossier_code, agency_code, ended_event, result_channel, result_digitized, digitally_signed, on_time, lo, hi
FROM ind_run
WHERE is_ended AND alone;

DROP TABLE IF EXISTS ind_open;
CREATE TEMPORARY TABLE ind_open AS
SELECT dossier_code, agency_code, late, waiting, due_at, MIN(lo) AS lo, MAX(hi) AS hi
FROM ind_run
WHERE is_open AND NOT alone AND CAST(:want_on_time_rate AS boolean)
GROUP BY dossier_code, open_run, agency_code, late, waiting, due_at
UNION ALL
SELECT dossier_code, agency_code, late, waiting, due_at, lo, hi
FROM ind_run
WHERE is_open AND alone AND CAST(:want_on_time_rate AS boolean);

DROP TABLE IF EXISTS ind_sync;
CREATE TEMPORARY TABLE ind_sync AS
SELECT dossier_code, agency_code, received_event, synced_from, MIN(lo) AS lo, MAX(hi) AS hi
FROM ind_run
WHERE is_received AND NOT alone AND CAST(:want_national_portal_sync_rate AS boolean)
GROUP BY dossier_code, sync_run, agency_code, received_event, synced_from
UNION ALL
SELECT dossier_code, agency_code, received_event, synced_from, lo, hi
FROM ind_run
WHERE is_received AND alone AND CAST(:want_national_portal_sync_rate AS boolean);

-- Evidence from the other systems, per dossier: the first day a successful online payment
-- transaction exists (one-stop payment with method online that reached "paid" -- a later refund
-- does not undo it -- or a PayGov transaction with error code '00'), and the first day a
-- (not cancelled) postal order exists to collect the dossier / to deliver its result. A day
-- before the range is the range's first day: the same for every date of the range.
DROP TABLE IF EXISTS ind_paid_tx;
CREATE TEMPORARY TABLE ind_paid_tx AS
SELECT dossier_code, GREATEST(MIN(paid_date), CAST(:range_start AS date)) AS paid_date
FROM (
    SELECT dossier_code, CAST(transaction_at AS date) AS paid_date
    FROM core.payment
    WHERE method = 2 AND status IN ('paid', 'refunded')
    UNION ALL
    SELECT dossier_code, CAST(transaction_at AS date)
    FROM core.paygov_transaction
    WHERE error_code = '00'
) t
WHERE dossier_code IN (SELECT dossier_code FROM ind_version)
  AND (CAST(:want_online_payment_dossier_rate AS boolean) OR CAST(:want_fee_online_paid_procedure_rate AS boolean))
GROUP BY dossier_code;

DROP TABLE IF EXISTS ind_postal;
CREATE TEMPORARY TABLE ind_postal AS
SELECT dossier_code,
       CASE WHEN MIN(CASE WHEN service_type = 'THU_GOM' THEN created_at END) IS NOT NULL
            THEN GREATEST(CAST(MIN(CASE WHEN service_type = 'THU_GOM' THEN created_at END) AS date),
                          CAST(:range_start AS date)) END AS collect_date,
       CASE WHEN MIN(CASE WHEN service_type = 'PHAT_KQ' THEN created_at END) IS NOT NULL
            THEN GREATEST(CAST(MIN(CASE WHEN service_type = 'PHAT_KQ' THEN created_at END) AS date),
                          CAST(:range_start AS date)) END AS deliver_date
FROM core.postal_order
WHERE collection_status <> 4
  AND dossier_code IN (SELECT dossier_code FROM ind_version)
  AND (CAST(:want_bcci_receive_rate AS boolean) OR CAST(:want_bcci_return_rate AS boolean)
       OR CAST(:want_bcci_procedure_rate AS boolean))
GROUP BY dossier_code;


-- The year's successful payment transactions up to the range's end, of the dossiers read, at the
-- agency of the dossier (its current version): a one-stop payment that reached "paid" (a later refund
-- does not undo it; pending and cancelled attempts never count), online when HinhThucThanhToan is 2,
-- and a successful PayGov transaction ('00') the one-stop system does not have (online). Per dossier,
-- so that an incremental run reads only the changed dossiers' transactions (scope_changed.sql lists
-- those with one dated from :events_from_ts), not the year's.
DROP TABLE IF EXISTS ind_transaction;
CREATE TEMPORARY TABLE ind_transaction AS
SELECT t.transaction_id, t.dossier_code, d.agency_code, t.transaction_at, t.online, t.one_stop
FROM (
    SELECT transaction_id, dossier_code, transaction_at, method = 2 AS online, TRUE AS one_stop
    FROM core.payment
    WHERE status IN ('paid', 'refunded')
      AND transaction_at >= CAST(:cal_start_ts AS timestamp)
      AND transaction_at < CAST(:end_next_ts AS timestamp)
    UNION ALL
    SELECT g.transaction_id, g.dossier_code, g.transaction_at, TRUE, FALSE
    FROM core.paygov_transaction g
    WHERE g.error_code = '00'
      AND g.transaction_at >= CAST(:cal_start_ts AS timestamp)
      AND g.transaction_at < CAST(:end_next_ts AS timestamp)
      AND NOT EXISTS (SELECT 1 FROM core.payment p WHERE p.transaction_id = g.transaction_id)
) t
JOIN ind_history d ON d.dossier_code = t.dossier_code AND d.valid_to IS NULL
WHERE CAST(:want_online_payment_transaction_rate AS boolean);
