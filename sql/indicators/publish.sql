-- Replace the range's rows in mart.indicator_snapshot: every agency valid on the date x period x
-- computed indicator, zero denominators included (value NULL), with its target.
-- Targets (core.target, from sql/seeds/targets.csv): for a snapshot in year Y, the most recent
-- year <= Y that has a target for the indicator; within that year the agency's own target beats
-- its level's ('level:N'), which beats the province-wide one ('all'). An own target of NULL
-- ("Không có phí") means no target. Strict targets ("> 5 %") need value > target.
-- Parameters: :range_start, :range_end, :province.
DROP TABLE IF EXISTS ind_target;
CREATE TEMPORARY TABLE ind_target AS
WITH years AS (
    SELECT DISTINCT CAST(EXTRACT(year FROM d) AS integer) AS y FROM ind_date
),
agencies AS (
    SELECT DISTINCT agency_code, level FROM ind_epoch_agency
),
ranked AS (
    SELECT y.y, a.agency_code, a.level, t.indicator_code, t.target, t.strict,
           row_number() OVER (
               PARTITION BY y.y, a.agency_code, a.level, t.indicator_code
               ORDER BY t.year DESC,
                        CASE WHEN t.agency_code = a.agency_code THEN 0
                             WHEN t.scope = 'level:' || CAST(a.level AS text) THEN 1
                             ELSE 2 END) AS rn
    FROM years y
    CROSS JOIN agencies a
    JOIN core.target t
      ON t.province = :province
     AND t.year <= y.y
     AND (t.agency_code = a.agency_code OR t.scope = 'level:' || CAST(a.level AS text) OR t.scope = 'all')
)
SELECT y, agency_code, level, indicator_code, target, strict FROM ranked WHERE rn = 1;

-- The range's rows as computed.
DROP TABLE IF EXISTS ind_snapshot;
CREATE TEMPORARY TABLE ind_snapshot AS
SELECT v.d AS snapshot_date, v.period, v.agency_code, v.indicator_code, v.numerator, v.denominator,
       CASE WHEN v.denominator = 0 THEN NULL
            ELSE CAST(v.numerator AS double precision) / v.denominator END AS value,
       t.target,
       CASE WHEN v.denominator = 0 OR t.target IS NULL THEN NULL
            WHEN t.strict THEN CAST(v.numerator AS double precision) / v.denominator > t.target
            ELSE CAST(v.numerator AS double precision) / v.denominator >= t.target END AS meets_target
FROM ind_value v
JOIN ind_epoch ep ON v.d >= ep.epoch_start AND v.d <= ep.epoch_end
JOIN ind_epoch_agency a ON a.epoch_start = ep.epoch_start AND a.agency_code = v.agency_code
LEFT JOIN ind_target t
  ON t.y = CAST(EXTRACT(year FROM v.d) AS integer) AND t.agency_code = v.agency_code AND t.level = a.level
 AND t.indicator_code = v.indicator_code;

-- Written as a difference, not deleted and inserted whole: a republished date mostly stands, and
-- DuckDB pays dearly for deleting and re-inserting the same keys (~0.5 s a night against 0.05 s).
-- Rows no longer computed (an agency gone from the range) go;
DELETE FROM mart.indicator_snapshot
WHERE snapshot_date >= CAST(:range_start AS date) AND snapshot_date <= CAST(:range_end AS date)
  AND NOT EXISTS (
      SELECT 1 FROM ind_snapshot n
      WHERE n.snapshot_date = mart.indicator_snapshot.snapshot_date AND n.period = mart.indicator_snapshot.period
        AND n.agency_code = mart.indicator_snapshot.agency_code
        AND n.indicator_code = mart.indicator_snapshot.indicator_code);

-- new rows are added, and rows whose figures or target changed are updated.
INSERT INTO mart.indicator_snapshot (
    snapshot_date, period, agency_code, indicator_code, numerator, denominator, value, target, meets_target)
SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator, value, target, meets_target
FROM ind_snapshot
ON CONFLICT (snapshot_date, period, agency_code, indicator_code) DO UPDATE SET
    numerator = excluded.numerator, denominator = excluded.denominator, value = excluded.value,
    target = excluded.target, meets_target = excluded.meets_target
WHERE mart.indicator_snapshot.numerator <> excluded.numerator
   OR mart.indicator_snapshot.denominator <> excluded.denominator
   OR mart.indicator_snapshot.target IS DISTINCT FROM excluded.target
   OR mart.indicator_snapshot.meets_target IS DISTINCT FROM excluded.meets_target;

DROP TABLE ind_snapshot;
