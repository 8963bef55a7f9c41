-- Facts -> every snapshot date's numerator and denominator, per agency (rolled up), period
-- kind and indicator, in one pass whatever the number of dates:
--   1. each fact, for each period kind, covers the snapshot dates [lo, hi] (an event counts for
--      D from the event's day to the end of its month / quarter / year, or that day alone),
--   2. cut at epoch boundaries and moved to the agency that holds it in that epoch,
--   3. turned into +w at the first date and -w the day after the last one (numerator and
--      denominator separately), summed per date and ancestor agency,
--   4. a running sum over the dates gives the value of each date.
-- Parameters: :range_end.
-- Every table here is analyzed once created (etl/indicators.py: PostgreSQL gathers no statistics on
-- temporary tables by itself). Unanalyzed, ind_value made incremental.sql probe the published snapshot
-- once a row.
-- The sums add integers: PostgreSQL sums bigint as numeric, about 10 % of the indicator step at
-- 1 M a year; a count or its change fits an integer, their sums stay bigint.
DROP TABLE IF EXISTS ind_leaf;
CREATE TEMPORARY TABLE ind_leaf AS
WITH span AS (
    SELECT f.indicator_code, f.agency_code, pe.period,
           GREATEST(f.lo, f.event_date) AS lo, LEAST(f.hi, pe.period_end) AS hi,
           f.num_lo, f.num_hi, f.w_den, f.w_num
    FROM ind_fact f
    JOIN ind_period_end pe ON pe.e = f.event_date AND pe.period_end >= f.lo
    WHERE f.event_date IS NOT NULL
    UNION ALL
    SELECT f.indicator_code, f.agency_code, p.period, f.lo, f.hi, f.num_lo, f.num_hi, f.w_den, f.w_num
    FROM ind_fact f
    JOIN ind_period_kind p ON f.period IS NULL OR p.period = f.period
    WHERE f.event_date IS NULL
),
compact AS (
    SELECT indicator_code, agency_code, period, lo, hi, num_lo, num_hi,
           SUM(CAST(w_den AS integer)) AS w_den, SUM(CAST(w_num AS integer)) AS w_num
    FROM span
    WHERE lo <= hi
    GROUP BY indicator_code, agency_code, period, lo, hi, num_lo, num_hi
),
clipped AS (
    SELECT s.indicator_code, ep.epoch_start, s.agency_code, s.period,
           GREATEST(s.lo, ep.epoch_start) AS lo, LEAST(s.hi, ep.epoch_end) AS hi,
           GREATEST(s.lo, ep.epoch_start, s.num_lo) AS nlo,
           LEAST(s.hi, ep.epoch_end, COALESCE(s.num_hi, s.hi)) AS nhi,
           s.num_lo, s.w_den, s.w_num
    FROM compact s
    JOIN ind_epoch ep ON ep.epoch_start <= s.hi AND ep.epoch_end >= s.lo
),
points AS (
    -- one row where numerator and denominator change on the same date (most facts)
    SELECT indicator_code, epoch_start, agency_code, period, lo AS d, w_den AS dden,
           CASE WHEN num_lo IS NOT NULL AND nlo = lo AND nlo <= nhi THEN w_num ELSE 0 END AS dnum
    FROM clipped WHERE w_den <> 0
    UNION ALL
    SELECT indicator_code, epoch_start, agency_code, period, hi + 1, -w_den,
           CASE WHEN num_lo IS NOT NULL AND nlo <= nhi AND nhi = hi THEN -w_num ELSE 0 END
    FROM clipped WHERE w_den <> 0 AND hi < CAST(:range_end AS date)
    UNION ALL
    SELECT indicator_code, epoch_start, agency_code, period, nlo, 0, w_num
    FROM clipped WHERE num_lo IS NOT NULL AND w_num <> 0 AND nlo <= nhi AND (w_den = 0 OR nlo <> lo)
    UNION ALL
    SELECT indicator_code, epoch_start, agency_code, period, nhi + 1, 0, -w_num
    FROM clipped WHERE num_lo IS NOT NULL AND w_num <> 0 AND nlo <= nhi AND nhi < CAST(:range_end AS date)
                   AND (w_den = 0 OR nhi <> hi)
)
SELECT indicator_code, epoch_start, agency_code, period, d,
       SUM(CAST(dden AS integer)) AS dden, SUM(CAST(dnum AS integer)) AS dnum
FROM points
GROUP BY indicator_code, epoch_start, agency_code, period, d;
-- A table, not a CTE, for its statistics: planned from the CTEs' estimates (3 groups for 306,000 rows
-- at 1 M a year), PostgreSQL grouped the roll-up below by sorting on text keys, 1.4 s of its 3.3 s.

DROP TABLE IF EXISTS ind_change;
CREATE TEMPORARY TABLE ind_change AS
SELECT l.indicator_code, r.ancestor_code AS agency_code, l.period, l.d,
       CAST(SUM(CAST(l.dden AS integer)) AS bigint) AS dden, CAST(SUM(CAST(l.dnum AS integer)) AS bigint) AS dnum
FROM ind_leaf l
JOIN ind_agency_map m ON m.epoch_start = l.epoch_start AND m.agency_code = l.agency_code
JOIN ind_rollup r ON r.epoch_start = l.epoch_start AND r.agency_code = m.mapped_code
GROUP BY l.indicator_code, r.ancestor_code, l.period, l.d;

-- Every date x agency (valid on some date of the range) x period x computed indicator, with the
-- running sums. publish.sql keeps the agencies valid on each date.

DROP TABLE IF EXISTS ind_value;
CREATE TEMPORARY TABLE ind_value AS
WITH agencies AS (
    SELECT DISTINCT agency_code FROM ind_epoch_agency
),
grid AS (
    SELECT dt.d, a.agency_code, p.period, c.indicator_code
    FROM ind_date dt
    CROSS JOIN agencies a
    CROSS JOIN ind_period_kind p
    CROSS JOIN ind_code c
)
SELECT g.d, g.agency_code, g.period, g.indicator_code,
       CAST(SUM(CAST(COALESCE(ch.dnum, 0) AS integer)) OVER w AS bigint) AS numerator,
       CAST(SUM(CAST(COALESCE(ch.dden, 0) AS integer)) OVER w AS bigint) AS denominator
FROM grid g
LEFT JOIN ind_change ch
  ON ch.d = g.d AND ch.agency_code = g.agency_code AND ch.period = g.period
 AND ch.indicator_code = g.indicator_code
WINDOW w AS (PARTITION BY g.agency_code, g.period, g.indicator_code ORDER BY g.d
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);
