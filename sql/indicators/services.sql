-- "Services with at least one dossier (of some kind) in the period" (service_online_uptake_rate,
-- fee_online_paid_procedure_rate, bcci_procedure_rate). Per service (agency x procedure, the
-- agency mapped to its successor where it no longer exists) and period kind, count the period's
-- dossiers on every snapshot date with the same +/- changes and running sums as aggregate.sql,
-- take the runs of dates on which the count is positive, and keep their part inside the
-- service's configuration intervals (ind_service_scope) as facts of one period each.
-- Parameters: :range_end.
-- The sums add integers: PostgreSQL sums bigint as numeric, about 10 % of the indicator step at
-- 1 M a year; a count or its change fits an integer, their sums stay bigint.
INSERT INTO ind_fact (indicator_code, agency_code, period, event_date, lo, hi, num_lo, num_hi, w_den, w_num)
WITH span AS (
    SELECT f.indicator_code, f.agency_code, f.procedure_code, pe.period,
           GREATEST(f.lo, f.event_date) AS lo, LEAST(f.hi, pe.period_end) AS hi, f.num_lo, f.w_den
    FROM ind_service_fact f
    JOIN ind_period_end pe ON pe.e = f.event_date AND pe.period_end >= f.lo
),
compact AS (
    SELECT indicator_code, agency_code, procedure_code, period, lo, hi, num_lo,
           SUM(CAST(w_den AS integer)) AS w_den
    FROM span
    WHERE lo <= hi
    GROUP BY indicator_code, agency_code, procedure_code, period, lo, hi, num_lo
),
clipped AS (
    SELECT s.indicator_code, m.mapped_code AS agency_code, s.procedure_code, s.period,
           GREATEST(s.lo, ep.epoch_start) AS lo, LEAST(s.hi, ep.epoch_end) AS hi,
           GREATEST(s.lo, ep.epoch_start, s.num_lo) AS nlo, s.num_lo, s.w_den
    FROM compact s
    JOIN ind_epoch ep ON ep.epoch_start <= s.hi AND ep.epoch_end >= s.lo
    JOIN ind_agency_map m ON m.epoch_start = ep.epoch_start AND m.agency_code = s.agency_code
),
points AS (
    -- the numerator runs from nlo to hi: one row where it starts with the denominator
    SELECT indicator_code, agency_code, procedure_code, period, lo AS d, w_den AS dden,
           CASE WHEN num_lo IS NOT NULL AND nlo = lo THEN w_den ELSE 0 END AS dnum
    FROM clipped
    UNION ALL
    SELECT indicator_code, agency_code, procedure_code, period, hi + 1, -w_den,
           CASE WHEN num_lo IS NOT NULL AND nlo <= hi THEN -w_den ELSE 0 END
    FROM clipped WHERE hi < CAST(:range_end AS date)
    UNION ALL
    SELECT indicator_code, agency_code, procedure_code, period, nlo, 0, w_den
    FROM clipped WHERE num_lo IS NOT NULL AND nlo <= hi AND nlo <> lo
),
changes AS (
    SELECT indicator_code, agency_code, procedure_code, period, d,
           SUM(CAST(dden AS integer)) AS dden, SUM(CAST(dnum AS integer)) AS dnum
    FROM points
    GROUP BY indicator_code, agency_code, procedure_code, period, d
),
running AS (
    SELECT indicator_code, agency_code, procedure_code, period, d,
           SUM(CAST(dden AS integer)) OVER w AS den, SUM(CAST(dnum AS integer)) OVER w AS num,
           LEAD(d) OVER (PARTITION BY indicator_code, agency_code, procedure_code, period ORDER BY d) AS next_d
    FROM changes
    WINDOW w AS (PARTITION BY indicator_code, agency_code, procedure_code, period ORDER BY d
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
positive AS (
    SELECT indicator_code, agency_code, procedure_code, period, d AS lo,
           COALESCE(next_d - 1, CAST(:range_end AS date)) AS hi, num > 0 AS has_num
    FROM running
    WHERE den > 0
),
scoped AS (
    SELECT p.indicator_code, p.agency_code, p.period, p.has_num,
           GREATEST(p.lo, s.lo) AS lo, LEAST(p.hi, s.hi) AS hi
    FROM positive p
    JOIN ind_service_scope s
      ON s.indicator_code = p.indicator_code AND s.agency_code = p.agency_code
     AND s.procedure_code = p.procedure_code AND s.lo <= p.hi AND s.hi >= p.lo
)
SELECT indicator_code, agency_code, period, CAST(NULL AS date), lo, hi,
       CASE WHEN has_num THEN lo END, CAST(NULL AS date), COUNT(*), COUNT(*)
FROM scoped
GROUP BY indicator_code, agency_code, period, lo, hi, has_num;
