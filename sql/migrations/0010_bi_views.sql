-- Views for BI tools over mart.indicator_snapshot, and descriptions of the mart objects
-- (COMMENT ON, which BI tools show next to the columns). Portable: PostgreSQL and DuckDB.
-- docs/data_dictionary.md describes every column.

-- The latest scorecard of each agency: its rows on the last date it has a snapshot (for a
-- current agency the latest published date, for one merged away its last day), with names and
-- the gap to the target.
CREATE OR REPLACE VIEW mart.scorecard_latest AS
WITH latest AS (
    SELECT agency_code, MAX(snapshot_date) AS snapshot_date
    FROM mart.indicator_snapshot
    GROUP BY agency_code
)
SELECT s.snapshot_date,
       s.agency_code,
       a.name AS agency_name,
       a.level AS agency_level,
       a.parent_code,
       s.period,
       s.indicator_code,
       i.name_vi AS indicator_name_vi,
       i.name_en AS indicator_name_en,
       s.numerator,
       s.denominator,
       s.value,
       s.target,
       s.value - s.target AS gap_to_target,
       s.meets_target
FROM latest l
JOIN mart.indicator_snapshot s ON s.agency_code = l.agency_code AND s.snapshot_date = l.snapshot_date
LEFT JOIN mart.agency a ON a.agency_code = s.agency_code
LEFT JOIN mart.indicator i ON i.indicator_code = s.indicator_code;

-- The province's own figures over time (the root agency, which includes every agency).
CREATE OR REPLACE VIEW mart.province_trend AS
SELECT s.snapshot_date,
       s.period,
       s.agency_code,
       a.name AS agency_name,
       s.indicator_code,
       i.name_vi AS indicator_name_vi,
       i.name_en AS indicator_name_en,
       s.numerator,
       s.denominator,
       s.value,
       s.target,
       s.value - s.target AS gap_to_target,
       s.meets_target
FROM mart.indicator_snapshot s
JOIN mart.agency a ON a.agency_code = s.agency_code AND a.parent_code IS NULL
LEFT JOIN mart.indicator i ON i.indicator_code = s.indicator_code;

-- On the latest published date, the agencies below their target, furthest below first:
-- rank_below 1 is the largest shortfall for that indicator and period.
CREATE OR REPLACE VIEW mart.below_target AS
SELECT l.snapshot_date,
       l.period,
       l.indicator_code,
       l.indicator_name_vi,
       l.indicator_name_en,
       l.agency_code,
       l.agency_name,
       l.agency_level,
       l.parent_code,
       l.numerator,
       l.denominator,
       l.value,
       l.target,
       l.gap_to_target,
       rank() OVER (PARTITION BY l.period, l.indicator_code ORDER BY l.gap_to_target, l.agency_code) AS rank_below
FROM mart.scorecard_latest l
WHERE l.meets_target = FALSE
  AND l.snapshot_date = (SELECT MAX(snapshot_date) FROM mart.indicator_snapshot);

COMMENT ON TABLE mart.indicator_snapshot IS 'One row per snapshot date x period x agency x indicator: numerator, denominator, value (NULL when the denominator is 0), target, meets_target. Figures as of the end of snapshot_date (Asia/Ho_Chi_Minh).';
COMMENT ON COLUMN mart.indicator_snapshot.snapshot_date IS 'The local date the figures are as of (end of that day).';
COMMENT ON COLUMN mart.indicator_snapshot.period IS 'day, mtd (month to date), qtd (quarter to date) or ytd (year to date), each ending on snapshot_date.';
COMMENT ON COLUMN mart.indicator_snapshot.agency_code IS 'MaDonVi. A district includes its communes, the province root (parent_code NULL) everyone.';
COMMENT ON COLUMN mart.indicator_snapshot.indicator_code IS 'See mart.indicator.';
COMMENT ON COLUMN mart.indicator_snapshot.numerator IS 'Count meeting the indicator (see mart.indicator.numerator_def).';
COMMENT ON COLUMN mart.indicator_snapshot.denominator IS 'Count the indicator is a share of (see mart.indicator.denominator_def).';
COMMENT ON COLUMN mart.indicator_snapshot.value IS 'numerator / denominator, 0 to 1. NULL when the denominator is 0.';
COMMENT ON COLUMN mart.indicator_snapshot.target IS 'The plan target that applies, 0 to 1. NULL when none applies.';
COMMENT ON COLUMN mart.indicator_snapshot.meets_target IS 'value >= target (value > target for strict "more than" targets). NULL when value or target is NULL.';
COMMENT ON TABLE mart.indicator IS 'The 18 indicators: code, Vietnamese and English names, what the numerator and the denominator count.';
COMMENT ON VIEW mart.agency IS 'Agencies past and present: code, name, level (1 province/department, 2 district, 3 commune), parent, validity.';
COMMENT ON VIEW mart.scorecard_latest IS 'Each agency''s rows on the last date it has a snapshot, with names and gap_to_target = value - target.';
COMMENT ON COLUMN mart.scorecard_latest.gap_to_target IS 'value - target: negative below the target. NULL when value or target is NULL.';
COMMENT ON VIEW mart.province_trend IS 'The province root''s figures for every snapshot date, period and indicator.';
COMMENT ON VIEW mart.below_target IS 'On the latest published date, agencies whose value misses the target, rank_below 1 = furthest below per period and indicator.';
COMMENT ON COLUMN mart.below_target.rank_below IS '1 = the largest shortfall (most negative gap_to_target) for this period and indicator.';
