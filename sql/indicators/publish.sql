-- The range's rows of mart.indicator_snapshot (ind_snapshot): every agency valid on the date x period x
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

-- The range's rows as computed; write.sql writes them over the range's rows of
-- mart.indicator_snapshot.
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
