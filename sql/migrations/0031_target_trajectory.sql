-- The road to each year target: from the ytd snapshot, what is still needed by 31 December and
-- whether it can still be done. A view over mart.indicator_snapshot; docs/trajectory.md.

-- How an indicator's year-end denominator is foreseen: 'pace' (dossiers, transactions: they keep
-- arriving, so the ytd count grows with the days) or 'stock' (services: the count there is now).
CREATE TABLE IF NOT EXISTS mart.indicator_projection (
    indicator_code  text PRIMARY KEY,
    projection      text NOT NULL,      -- pace | stock
    unit_vi         text NOT NULL       -- what the denominator counts, in words
);

INSERT INTO mart.indicator_projection VALUES
('full_online_service_rate', 'stock', 'dịch vụ'),
('service_online_uptake_rate', 'stock', 'dịch vụ'),
('national_portal_integration_rate', 'stock', 'dịch vụ'),
('fee_online_payment_enabled_rate', 'stock', 'dịch vụ'),
('fee_online_paid_procedure_rate', 'stock', 'dịch vụ'),
('bcci_procedure_rate', 'stock', 'dịch vụ'),
('online_dossier_full_online_rate', 'pace', 'hồ sơ'),
('online_dossier_rate', 'pace', 'hồ sơ'),
('online_payment_dossier_rate', 'pace', 'hồ sơ'),
('online_payment_transaction_rate', 'pace', 'giao dịch'),
('on_time_rate', 'pace', 'hồ sơ'),
('national_portal_sync_rate', 'pace', 'hồ sơ'),
('digitized_dossier_rate', 'pace', 'hồ sơ'),
('digitized_result_rate', 'pace', 'hồ sơ'),
('online_signed_processing_rate', 'pace', 'hồ sơ'),
('online_result_return_rate', 'pace', 'hồ sơ'),
('bcci_receive_rate', 'pace', 'hồ sơ'),
('bcci_return_rate', 'pace', 'hồ sơ');

-- pace: expected = round(ytd denominator x days in year / days elapsed); still to come = expected -
-- ytd denominator. stock: expected = the denominator now; still open = the units not yet counting.
-- Required by year-end: ceil(target x expected), or floor(...) + 1 for a strict ("more than")
-- target. The snapshot keeps the target's value, not its strictness: a target is strict when a
-- strict core.target row of the same value applies to the agency (only "more than" rows are).
CREATE OR REPLACE VIEW mart.target_trajectory AS
WITH base AS (
    SELECT s.snapshot_date,
           s.agency_code,
           s.indicator_code,
           s.numerator,
           s.denominator,
           s.value,
           s.target,
           COALESCE(p.projection, 'pace') AS projection,
           COALESCE(p.unit_vi, 'hồ sơ') AS unit_vi,
           CAST(EXTRACT(doy FROM make_date(CAST(EXTRACT(year FROM s.snapshot_date) AS integer), 12, 31)) AS integer)
               AS days_in_year,
           CAST(EXTRACT(doy FROM s.snapshot_date) AS integer) AS days_elapsed,
           EXISTS (SELECT 1 FROM core.target t
                   WHERE t.strict AND t.indicator_code = s.indicator_code AND t.target = s.target
                     AND t.year <= EXTRACT(year FROM s.snapshot_date)
                     AND (t.agency_code = s.agency_code OR t.scope = 'all'
                          OR t.scope = 'level:' || CAST(a.level AS text))) AS strict
    FROM mart.indicator_snapshot s
    LEFT JOIN mart.indicator_projection p ON p.indicator_code = s.indicator_code
    LEFT JOIN core.agency a ON a.agency_code = s.agency_code
    WHERE s.period = 'ytd' AND s.target IS NOT NULL
),
expected AS (
    SELECT b.*,
           CASE WHEN b.denominator = 0 THEN NULL
                WHEN b.projection = 'stock' THEN b.denominator
                ELSE CAST(ROUND(CAST(b.denominator AS numeric(24, 6)) * b.days_in_year / b.days_elapsed) AS bigint)
           END AS expected_denominator
    FROM base b
),
required AS (
    SELECT e.*,
           CASE WHEN e.projection = 'stock' THEN e.denominator - e.numerator
                ELSE e.expected_denominator - e.denominator END AS remaining,
           CASE WHEN e.strict THEN CAST(FLOOR(CAST(e.target * e.expected_denominator AS numeric(24, 6))) AS bigint) + 1
                ELSE CAST(CEIL(CAST(e.target * e.expected_denominator AS numeric(24, 6))) AS bigint)
           END AS required_numerator
    FROM expected e
),
needed AS (
    SELECT r.*,
           r.required_numerator - r.numerator AS needed_numerator,
           CASE WHEN r.required_numerator - r.numerator <= 0 THEN 0.0
                WHEN r.remaining > 0 THEN CAST(r.required_numerator - r.numerator AS double precision) / r.remaining
           END AS needed_rate,
           CASE WHEN r.expected_denominator IS NULL THEN NULL
                WHEN r.required_numerator - r.numerator <= 0 THEN TRUE
                ELSE r.required_numerator - r.numerator <= r.remaining END AS reachable
    FROM required r
)
SELECT n.snapshot_date,
       n.agency_code,
       a.name AS agency_name,
       a.level_label,
       a.peer_group,
       n.indicator_code,
       i.display_order AS indicator_order,
       i.name_vi AS indicator_name_vi,
       n.projection,
       n.unit_vi,
       n.numerator,
       n.denominator,
       n.value,
       CAST(ROUND(CAST(100 * n.value AS numeric(12, 4)), 2) AS double precision) AS value_pct,
       n.target,
       CAST(ROUND(CAST(100 * n.target AS numeric(12, 4)), 2) AS double precision) AS target_pct,
       n.strict,
       n.days_elapsed,
       n.days_in_year,
       n.expected_denominator,
       n.remaining,
       n.required_numerator,
       CASE WHEN n.needed_numerator > 0 THEN n.needed_numerator ELSE 0 END AS needed_numerator,
       n.needed_rate,
       CAST(ROUND(CAST(100 * n.needed_rate AS numeric(12, 4)), 2) AS double precision) AS needed_rate_pct,
       n.reachable,
       CASE WHEN n.expected_denominator IS NULL THEN NULL
            WHEN n.needed_numerator <= 0 THEN TRUE
            WHEN n.projection = 'stock' OR NOT n.reachable THEN FALSE
            ELSE n.needed_rate <= n.value END AS on_track,
       CASE WHEN n.expected_denominator IS NULL THEN 'chưa có số liệu'
            WHEN n.needed_numerator <= 0 AND n.projection = 'stock' THEN 'đang đạt'
            WHEN n.needed_numerator <= 0 THEN 'đã chắc chắn đạt'
            WHEN NOT n.reachable THEN 'không thể đạt'
            WHEN n.projection = 'stock' THEN 'cần bổ sung'
            WHEN n.needed_rate <= n.value THEN 'đúng tiến độ'
            ELSE 'cần tăng tốc' END AS status_vi,
       CASE WHEN n.expected_denominator IS NULL THEN NULL
            WHEN n.projection = 'stock' THEN
                'Hiện có ' || CAST(n.denominator AS text) || ' ' || n.unit_vi || ', ' || CAST(n.numerator AS text)
                || ' đạt; cần ít nhất ' || CAST(n.required_numerator AS text) || ' đạt: thêm '
                || CAST(CASE WHEN n.needed_numerator > 0 THEN n.needed_numerator ELSE 0 END AS text) || ' ' || n.unit_vi
            ELSE
                'Dự kiến đến 31/12 có khoảng ' || CAST(n.expected_denominator AS text) || ' ' || n.unit_vi
                || '; cần ít nhất ' || CAST(n.required_numerator AS text) || ' đạt: thêm '
                || CAST(CASE WHEN n.needed_numerator > 0 THEN n.needed_numerator ELSE 0 END AS text)
                || ' trong khoảng ' || CAST(n.remaining AS text) || ' ' || n.unit_vi || ' từ nay'
                || CASE WHEN n.needed_rate IS NULL THEN ''
                        ELSE ' (' || CAST(CAST(100 * n.needed_rate AS numeric(12, 1)) AS text) || ' %)' END
                || ', so với ' || CAST(CAST(100 * n.value AS numeric(12, 1)) AS text) || ' % đến nay'
       END AS explanation_vi
FROM needed n
LEFT JOIN mart.agency a ON a.agency_code = n.agency_code
LEFT JOIN mart.indicator i ON i.indicator_code = n.indicator_code;
