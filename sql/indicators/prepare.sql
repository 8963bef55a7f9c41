-- Working tables for one run over a range of snapshot dates [:range_start, :range_end]
-- (one date for the nightly run, up to a calendar year for a backfill).
--
-- How a range stays linear in the number of dates: nothing here is computed per date. Every
-- dossier version is the state "as of the end of D" for an interval of snapshot dates D
-- (from the day it was written to the day before the next version was written); every
-- configuration row, integration and transaction is valid on an interval of dates too. The
-- measures in measures/ turn those into *facts*: "this contributes to the denominator (and,
-- on a sub-interval, to the numerator) of indicator X at agency A for snapshot dates lo..hi,
-- in the periods containing its event date". aggregate.sql turns facts into +/- changes at
-- interval ends and a running sum over the dates yields every date's figures at once.
--
-- Parameters: :range_start, :range_end (dates), :cal_start (1 January of :range_start's year),
-- :start_ts (:range_start 00:00), :start_next_ts (:range_start + 1 day 00:00),
-- :end_next_ts (:range_end + 1 day 00:00), :cal_start_ts (:cal_start 00:00).

-- The snapshot dates of the run.
DROP TABLE IF EXISTS ind_date;
CREATE TEMPORARY TABLE ind_date AS
WITH RECURSIVE days (d) AS (
    SELECT CAST(:range_start AS date)
    UNION ALL
    SELECT d + 1 FROM days WHERE d < CAST(:range_end AS date)
)
SELECT d FROM days;

DROP TABLE IF EXISTS ind_period_kind;
CREATE TEMPORARY TABLE ind_period_kind AS
SELECT 'day' AS period UNION ALL SELECT 'mtd' UNION ALL SELECT 'qtd' UNION ALL SELECT 'ytd';

-- For an event on date e (a receipt, the end of processing, a payment), the last snapshot date
-- of each period kind that still contains it: a period ending on D starts on D's day / first of
-- the month / quarter / year, so an event counts for D in [e, period_end].
DROP TABLE IF EXISTS ind_period_end;
CREATE TEMPORARY TABLE ind_period_end AS
WITH RECURSIVE days (e) AS (
    SELECT CAST(:cal_start AS date)
    UNION ALL
    SELECT e + 1 FROM days WHERE e < CAST(:range_end AS date)
)
SELECT e, 'day' AS period, e AS period_end FROM days
UNION ALL
SELECT e, 'mtd', CAST(date_trunc('month', CAST(e AS timestamp)) + INTERVAL '1 month' AS date) - 1 FROM days
UNION ALL
SELECT e, 'qtd', CAST(date_trunc('quarter', CAST(e AS timestamp)) + INTERVAL '3 month' AS date) - 1 FROM days
UNION ALL
SELECT e, 'ytd', CAST(date_trunc('year', CAST(e AS timestamp)) + INTERVAL '1 year' AS date) - 1 FROM days;

-- Epochs: maximal runs of dates in the range on which the set of valid agencies (and so the
-- hierarchy and the successor mapping) does not change. Usually one; two across 1 July 2025.
DROP TABLE IF EXISTS ind_epoch;
CREATE TEMPORARY TABLE ind_epoch AS
WITH starts AS (
    SELECT CAST(:range_start AS date) AS s
    UNION
    SELECT valid_from FROM core.agency
    WHERE valid_from > CAST(:range_start AS date) AND valid_from <= CAST(:range_end AS date)
    UNION
    SELECT valid_to + 1 FROM core.agency
    WHERE valid_to + 1 > CAST(:range_start AS date) AND valid_to + 1 <= CAST(:range_end AS date)
)
SELECT s AS epoch_start,
       COALESCE(LEAD(s) OVER (ORDER BY s) - 1, CAST(:range_end AS date)) AS epoch_end
FROM starts;

-- The agencies valid in each epoch.
DROP TABLE IF EXISTS ind_epoch_agency;
CREATE TEMPORARY TABLE ind_epoch_agency AS
SELECT e.epoch_start, a.agency_code, a.level, a.parent_code
FROM ind_epoch e
JOIN core.agency a
  ON a.valid_from <= e.epoch_start
 AND (a.valid_to IS NULL OR a.valid_to >= e.epoch_start);

-- Every agency, valid or not, mapped to the agency that holds its dossiers in each epoch: itself
-- while valid; else its successor (core.agency.successor_code, after a merger), followed until
-- a valid one; an agency abolished without a successor hands over to its parent (a district
-- abolished in 2025 -> the province), so that the province's figures still include everyone.
DROP TABLE IF EXISTS ind_agency_map;
CREATE TEMPORARY TABLE ind_agency_map AS
WITH RECURSIVE walk (epoch_start, agency_code, cur, depth) AS (
    SELECT e.epoch_start, a.agency_code, a.agency_code, 0
    FROM ind_epoch e CROSS JOIN core.agency a
    UNION ALL
    SELECT w.epoch_start, w.agency_code, COALESCE(a.successor_code, a.parent_code), w.depth + 1
    FROM walk w
    JOIN core.agency a ON a.agency_code = w.cur
    WHERE w.depth < 12
      AND COALESCE(a.successor_code, a.parent_code) IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ind_epoch_agency v
                      WHERE v.epoch_start = w.epoch_start AND v.agency_code = w.cur)
)
SELECT w.epoch_start, w.agency_code, w.cur AS mapped_code
FROM walk w
JOIN ind_epoch_agency v ON v.epoch_start = w.epoch_start AND v.agency_code = w.cur;

-- Each valid agency with every valid agency it rolls up into, itself included (a commune counts
-- for its district and for the province root), per epoch. A parent that is no longer valid is
-- replaced by the agency it maps to.
DROP TABLE IF EXISTS ind_rollup;
CREATE TEMPORARY TABLE ind_rollup AS
WITH RECURSIVE parent AS (
    SELECT a.epoch_start, a.agency_code, m.mapped_code AS parent_code
    FROM ind_epoch_agency a
    JOIN ind_agency_map m ON m.epoch_start = a.epoch_start AND m.agency_code = a.parent_code
    WHERE m.mapped_code <> a.agency_code
),
tree (epoch_start, ancestor_code, agency_code, depth) AS (
    SELECT epoch_start, agency_code, agency_code, 0 FROM ind_epoch_agency
    UNION ALL
    SELECT t.epoch_start, p.parent_code, t.agency_code, t.depth + 1
    FROM tree t
    JOIN parent p ON p.epoch_start = t.epoch_start AND p.agency_code = t.ancestor_code
    WHERE t.depth < 12
)
SELECT DISTINCT epoch_start, ancestor_code, agency_code FROM tree;

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
        LEAST(COALESCE(CAST(h.valid_to AS date) - 1, CAST(:range_end AS date)), CAST(:range_end AS date)) AS hi
    FROM core.dossier_history h
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
DROP TABLE IF EXISTS ind_run;
CREATE TEMPORARY TABLE ind_run AS
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
    SELECT v.dossier_code, v.agency_code, v.procedure_code, v.received_date, v.received_event, v.channel,
           v.result_channel, v.has_digitized_components, v.paid_flag, v.ended_event, v.result_digitized,
           v.digitally_signed, v.due_at, v.lo, v.hi, v.is_received, v.is_open,
           v.ended_at IS NOT NULL AS is_ended,
           v.supplement_count <= 1 AND NOT v.requested_late AND (v.due_at IS NULL OR v.ended_at <= v.due_at) AS on_time,
           v.supplement_count > 1 OR v.requested_late AS late,
           v.status = 5 AS waiting,
           CASE WHEN s.synced_date <= v.lo THEN DATE '1900-01-01' ELSE s.synced_date END AS synced_from
    FROM ind_version v
    LEFT JOIN synced s ON s.dossier_code = v.dossier_code AND s.updated_at = v.updated_at
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
    WINDOW w AS (PARTITION BY v.dossier_code ORDER BY v.lo)
)
SELECT s.dossier_code, s.agency_code, s.procedure_code, s.received_date, s.received_event, s.channel,
       s.result_channel, s.has_digitized_components, s.paid_flag, s.ended_event, s.result_digitized,
       s.digitally_signed, s.on_time, s.late, s.waiting, s.due_at, s.synced_from, s.lo, s.hi,
       s.is_received, s.is_ended, s.is_open,
       SUM(CASE WHEN s.follows AND s.same_recv THEN 0 ELSE 1 END) OVER w AS recv_run,
       SUM(CASE WHEN s.follows AND s.same_ended THEN 0 ELSE 1 END) OVER w AS ended_run,
       SUM(CASE WHEN s.follows AND s.same_open THEN 0 ELSE 1 END) OVER w AS open_run,
       SUM(CASE WHEN s.follows AND s.same_sync THEN 0 ELSE 1 END) OVER w AS sync_run
FROM same s
WINDOW w AS (PARTITION BY s.dossier_code ORDER BY s.lo ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

DROP TABLE IF EXISTS ind_recv;
CREATE TEMPORARY TABLE ind_recv AS
SELECT dossier_code, agency_code, procedure_code, received_date, received_event, channel, result_channel,
       has_digitized_components, paid_flag, MIN(lo) AS lo, MAX(hi) AS hi
FROM ind_run
WHERE is_received
GROUP BY dossier_code, recv_run, agency_code, procedure_code, received_date, received_event, channel,
         result_channel, has_digitized_components, paid_flag;

DROP TABLE IF EXISTS ind_ended;
CREATE TEMPORARY TABLE ind_ended AS
SELECT dossier_code, agency_code, ended_event, result_channel, result_digitized, digitally_signed, on_time,
       MIN(lo) AS lo, MAX(hi) AS hi
FROM ind_run
WHERE is_ended
GROUP BY dossier_code, ended_run, agency_code, ended_event, result_channel, result_digitized, digitally_signed,
         on_time;

DROP TABLE IF EXISTS ind_open;
CREATE TEMPORARY TABLE ind_open AS
SELECT dossier_code, agency_code, late, waiting, due_at, MIN(lo) AS lo, MAX(hi) AS hi
FROM ind_run
WHERE is_open
GROUP BY dossier_code, open_run, agency_code, late, waiting, due_at;

DROP TABLE IF EXISTS ind_sync;
CREATE TEMPORARY TABLE ind_sync AS
SELECT dossier_code, agency_code, received_event, synced_from, MIN(lo) AS lo, MAX(hi) AS hi
FROM ind_run
WHERE is_received
GROUP BY dossier_code, sync_run, agency_code, received_event, synced_from;

-- Service configuration rows valid on some date of the range, clipped to it, with the
-- procedure's catalogue flags.
DROP TABLE IF EXISTS ind_config;
CREATE TEMPORARY TABLE ind_config AS
SELECT c.agency_code, c.procedure_code, c.service_level, c.online_payment, c.bcci,
       COALESCE(p.full_online_eligible, FALSE) AS full_online_eligible,
       COALESCE(p.has_fee, FALSE) AS has_fee,
       GREATEST(c.valid_from, CAST(:range_start AS date)) AS lo,
       LEAST(COALESCE(c.valid_to, CAST(:range_end AS date)), CAST(:range_end AS date)) AS hi
FROM core.service_config c
LEFT JOIN core.procedure p ON p.procedure_code = c.procedure_code
WHERE c.valid_from <= CAST(:range_end AS date)
  AND (c.valid_to IS NULL OR c.valid_to >= CAST(:range_start AS date));

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
GROUP BY dossier_code;

-- What the measures write. A fact counts w_den in the denominator on the snapshot dates
-- [lo, hi] and w_num in the numerator on [lo, hi] ∩ [num_lo, num_hi] (num_lo NULL: never,
-- num_hi NULL: no upper bound), restricted for each period kind to the snapshot dates whose
-- period contains event_date (NULL: every period, e.g. open dossiers and configuration), or
-- only for `period` when that is set.
DROP TABLE IF EXISTS ind_fact;
CREATE TEMPORARY TABLE ind_fact (
    indicator_code  text NOT NULL,
    agency_code     text NOT NULL,
    period          text,
    event_date      date,
    lo              date NOT NULL,
    hi              date NOT NULL,
    num_lo          date,
    num_hi          date,
    w_den           bigint NOT NULL,
    w_num           bigint NOT NULL
);

-- The same for "services (agency x procedure) with at least one dossier" indicators: facts per
-- service, and the configuration intervals on which each service counts (services.sql).
DROP TABLE IF EXISTS ind_service_fact;
CREATE TEMPORARY TABLE ind_service_fact (
    indicator_code  text NOT NULL,
    agency_code     text NOT NULL,
    procedure_code  text NOT NULL,
    event_date      date NOT NULL,
    lo              date NOT NULL,
    hi              date NOT NULL,
    num_lo          date,
    w_den           bigint NOT NULL
);

DROP TABLE IF EXISTS ind_service_scope;
CREATE TEMPORARY TABLE ind_service_scope (
    indicator_code  text NOT NULL,
    agency_code     text NOT NULL,
    procedure_code  text NOT NULL,
    lo              date NOT NULL,
    hi              date NOT NULL
);

DROP TABLE IF EXISTS ind_code;
CREATE TEMPORARY TABLE ind_code (indicator_code text NOT NULL);
