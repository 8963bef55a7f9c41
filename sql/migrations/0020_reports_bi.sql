-- What BI tools and the reports (etl/reports/) read: level labels, an indicator order, percent
-- columns, rankings of peers with peers above a minimum denominator, the targets with their source
-- document, and how fresh the data is. Portable: PostgreSQL and DuckDB.
-- The Vietnamese + English comments on every mart object and column are applied after every
-- migrate from sql/reports/mart_comments.csv (etl.reports.bi.after_migrate), so that a view
-- replaced later keeps its comments; mart.indicator.display_order is set there too (the order of
-- sql/seeds/indicators.csv).

ALTER TABLE mart.indicator ADD COLUMN IF NOT EXISTS display_order integer;

-- Settings of the reports and rankings, readable by BI tools. Change one with an UPDATE.
CREATE TABLE IF NOT EXISTS mart.report_setting (
    name         text PRIMARY KEY,
    value        double precision NOT NULL,
    description  text NOT NULL
);
INSERT INTO mart.report_setting (name, value, description)
VALUES ('min_denominator', 20, 'Đơn vị có mẫu số nhỏ hơn giá trị này không được xếp hạng / agencies whose denominator (dossiers or services) is below this are not ranked')
ON CONFLICT (name) DO NOTHING;

-- Agencies with their level label; peer_group is who an agency is ranked with.
CREATE OR REPLACE VIEW mart.agency AS
SELECT agency_code, name, level, parent_code, valid_from, valid_to, successor_code,
       CASE WHEN parent_code IS NULL THEN 'tỉnh' WHEN level = 1 THEN 'sở-ngành'
            WHEN level = 2 THEN 'huyện' ELSE 'xã' END AS level_label,
       CASE WHEN parent_code IS NULL THEN 'province' WHEN level = 1 THEN 'department'
            WHEN level = 2 THEN 'district' ELSE 'commune' END AS peer_group
FROM core.agency;

-- Every snapshot row with names, labels, percentages and whether it may be ranked.
CREATE OR REPLACE VIEW mart.snapshot_detail AS
SELECT s.snapshot_date,
       s.period,
       s.agency_code,
       a.name AS agency_name,
       a.level AS agency_level,
       a.level_label,
       a.peer_group,
       a.parent_code,
       s.indicator_code,
       i.display_order AS indicator_order,
       i.name_vi AS indicator_name_vi,
       i.name_en AS indicator_name_en,
       s.numerator,
       s.denominator,
       s.value,
       CAST(ROUND(CAST(100 * s.value AS numeric(12, 4)), 2) AS double precision) AS value_pct,
       s.target,
       CAST(ROUND(CAST(100 * s.target AS numeric(12, 4)), 2) AS double precision) AS target_pct,
       s.value - s.target AS gap_to_target,
       CAST(ROUND(CAST(100 * (s.value - s.target) AS numeric(12, 4)), 2) AS double precision) AS gap_pct,
       s.meets_target,
       s.denominator >= (SELECT value FROM mart.report_setting WHERE name = 'min_denominator') AS rankable
FROM mart.indicator_snapshot s
LEFT JOIN mart.agency a ON a.agency_code = s.agency_code
LEFT JOIN mart.indicator i ON i.indicator_code = s.indicator_code;

-- Rankings against target, peers with peers (departments, districts, communes), on every date:
-- only agencies with a target, a value and a denominator of at least min_denominator.
CREATE OR REPLACE VIEW mart.agency_ranking AS
SELECT d.snapshot_date, d.period, d.indicator_code, d.indicator_order, d.indicator_name_vi,
       d.indicator_name_en, d.peer_group, d.level_label, d.agency_code, d.agency_name, d.parent_code,
       d.numerator, d.denominator, d.value, d.value_pct, d.target, d.target_pct, d.gap_to_target,
       d.gap_pct, d.meets_target,
       rank() OVER (PARTITION BY d.snapshot_date, d.period, d.indicator_code, d.peer_group
                    ORDER BY d.gap_to_target DESC, d.agency_code) AS rank_in_peers,
       COUNT(*) OVER (PARTITION BY d.snapshot_date, d.period, d.indicator_code, d.peer_group) AS peers_ranked
FROM mart.snapshot_detail d
WHERE d.rankable AND d.value IS NOT NULL AND d.target IS NOT NULL AND d.peer_group <> 'province';

CREATE OR REPLACE VIEW mart.scorecard_latest AS
WITH latest AS (
    SELECT agency_code, MAX(snapshot_date) AS snapshot_date
    FROM mart.indicator_snapshot
    GROUP BY agency_code
)
SELECT d.snapshot_date,
       d.agency_code,
       d.agency_name,
       d.agency_level,
       d.parent_code,
       d.period,
       d.indicator_code,
       d.indicator_name_vi,
       d.indicator_name_en,
       d.numerator,
       d.denominator,
       d.value,
       d.target,
       d.gap_to_target,
       d.meets_target,
       d.value_pct,
       d.target_pct,
       d.gap_pct,
       d.level_label,
       d.peer_group,
       d.indicator_order
FROM latest l
JOIN mart.snapshot_detail d ON d.agency_code = l.agency_code AND d.snapshot_date = l.snapshot_date;

CREATE OR REPLACE VIEW mart.province_trend AS
SELECT d.snapshot_date,
       d.period,
       d.agency_code,
       d.agency_name,
       d.indicator_code,
       d.indicator_name_vi,
       d.indicator_name_en,
       d.numerator,
       d.denominator,
       d.value,
       d.target,
       d.gap_to_target,
       d.meets_target,
       d.value_pct,
       d.target_pct,
       d.indicator_order
FROM mart.snapshot_detail d
WHERE d.peer_group = 'province';

-- On the latest published date, the agencies below their target, furthest below first within
-- their peers; agencies under min_denominator are left out.
CREATE OR REPLACE VIEW mart.below_target AS
SELECT r.snapshot_date,
       r.period,
       r.indicator_code,
       r.indicator_name_vi,
       r.indicator_name_en,
       r.agency_code,
       r.agency_name,
       a.level AS agency_level,
       r.parent_code,
       r.numerator,
       r.denominator,
       r.value,
       r.target,
       r.gap_to_target,
       rank() OVER (PARTITION BY r.period, r.indicator_code, r.peer_group
                    ORDER BY r.gap_to_target, r.agency_code) AS rank_below,
       r.peer_group,
       r.level_label,
       r.value_pct,
       r.target_pct,
       r.gap_pct
FROM mart.agency_ranking r
JOIN mart.agency a ON a.agency_code = r.agency_code
WHERE r.meets_target = FALSE
  AND r.snapshot_date = (SELECT MAX(snapshot_date) FROM mart.indicator_snapshot);

-- The targets of the provincial plans and decisions, with the document each comes from.
CREATE OR REPLACE VIEW mart.target AS
SELECT t.province,
       t.year,
       t.indicator_code,
       i.display_order AS indicator_order,
       i.name_vi AS indicator_name_vi,
       i.name_en AS indicator_name_en,
       t.scope,
       CASE WHEN t.scope = 'all' THEN 'toàn tỉnh'
            WHEN t.scope = 'level:1' THEN 'cấp tỉnh'
            WHEN t.scope = 'level:2' THEN 'cấp huyện'
            WHEN t.scope = 'level:3' THEN 'cấp xã'
            ELSE t.scope END AS scope_label,
       t.agency_code,
       a.name AS agency_name,
       t.target,
       CAST(ROUND(CAST(100 * t.target AS numeric(12, 4)), 2) AS double precision) AS target_pct,
       t.strict,
       t.source
FROM core.target t
LEFT JOIN mart.indicator i ON i.indicator_code = t.indicator_code
LEFT JOIN core.agency a ON a.agency_code = t.agency_code;

-- How fresh the data is, per source system and entity: how far it is loaded, its last batch,
-- and the latest published snapshot that includes it.
CREATE OR REPLACE VIEW mart.data_freshness AS
WITH batches AS (
    SELECT source, entity, batch_id, status, started_at, finished_at, message,
           row_number() OVER (PARTITION BY source, entity ORDER BY started_at DESC, batch_id DESC) AS rn
    FROM ops.batch
),
success AS (
    SELECT source, entity, MAX(finished_at) AS last_success_at
    FROM ops.batch WHERE status = 'succeeded' GROUP BY source, entity
),
published AS (
    SELECT MAX(snapshot_date) AS last_snapshot_date FROM mart.indicator_snapshot
)
SELECT b.source,
       b.entity,
       w.loaded_until,
       b.batch_id AS last_batch_id,
       b.status AS last_batch_status,
       b.started_at AS last_batch_started_at,
       b.finished_at AS last_batch_finished_at,
       s.last_success_at,
       CASE WHEN b.status = 'failed' THEN b.message END AS last_error,
       p.last_snapshot_date,
       LEAST(p.last_snapshot_date, CAST(w.loaded_until AS date) - 1) AS published_through
FROM batches b
LEFT JOIN ops.watermark w ON w.source = b.source AND w.entity = b.entity
LEFT JOIN success s ON s.source = b.source AND s.entity = b.entity
CROSS JOIN published p
WHERE b.rn = 1;
