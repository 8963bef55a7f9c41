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
-- This file prepares the dates, the agencies and the configuration; then scope_all.sql (or
-- scope_changed.sql, for an incremental run: etl/indicators.py) says which dossiers are read, and
-- versions.sql prepares them.
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
CREATE TEMPORARY TABLE ind_code (indicator_code text NOT NULL, incremental boolean NOT NULL);
