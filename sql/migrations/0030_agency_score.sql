-- A 0-100 score per agency and for the province, after the national portal's scheme (Decision
-- 766/QĐ-TTg): six groups, transparency 18, progress 20, online service 12, digitization 22,
-- satisfaction 18, online payment 10; a criterion below its threshold scores rate x max / threshold.
-- The criteria and their mapping to our indicators are data (mart.score_criterion, readable by BI
-- tools); change them with an UPDATE or a later migration, the views follow. docs/scorecard.md.
-- Views over mart.indicator_snapshot: nothing to compute at night, always the published figures.

CREATE TABLE IF NOT EXISTS mart.score_criterion (
    criterion_code     text PRIMARY KEY,
    criterion_order    integer NOT NULL,
    group_code         text NOT NULL,
    group_order        integer NOT NULL,
    group_name_vi      text NOT NULL,
    group_name_en      text NOT NULL,
    group_max          double precision NOT NULL,
    criterion_name_vi  text NOT NULL,
    criterion_name_en  text NOT NULL,
    indicator_code     text,               -- NULL: our sources cannot compute it
    max_points         double precision NOT NULL,
    threshold          double precision,   -- full points from this rate on
    note               text NOT NULL
);

-- The groups' maxima and the 50 % / 80 % thresholds are the portal's; how a group's points are
-- split between its criteria where the sources say no more is this warehouse's reading (the note says which).
INSERT INTO mart.score_criterion VALUES
('tthc_published_on_time', 1, 'transparency', 1, 'Công khai, minh bạch', 'Transparency', 18,
 'TTHC được cập nhật, công khai đúng hạn', 'Procedures published on time', NULL, 4, NULL,
 'Không tính được: ngày công bố TTHC nằm ở Cơ sở dữ liệu quốc gia về TTHC, không có trong nguồn dữ liệu / not computable: publication dates are in the national procedure database, not in our sources'),
('dossier_synced', 2, 'transparency', 1, 'Công khai, minh bạch', 'Transparency', 18,
 'Hồ sơ đồng bộ đầy đủ trên Cổng DVCQG', 'Dossiers synced to the national portal', 'national_portal_sync_rate', 14, 1,
 'Phần còn lại của nhóm / the rest of the group'),
('on_time', 3, 'progress', 2, 'Tiến độ giải quyết', 'Progress', 20,
 'Hồ sơ giải quyết trước hạn, đúng hạn', 'Dossiers handled on time', 'on_time_rate', 20, 1,
 'Cả nhóm / the whole group'),
('full_online_services', 4, 'online_service', 3, 'Dịch vụ công trực tuyến', 'Online service', 12,
 'TTHC cung cấp DVCTT toàn trình', 'Procedures offered full-online', 'full_online_service_rate', 4, 1,
 'Chia đều nhóm / group split evenly'),
('services_with_online_dossiers', 5, 'online_service', 3, 'Dịch vụ công trực tuyến', 'Online service', 12,
 'DVCTT có phát sinh hồ sơ trực tuyến', 'Full-online services with online dossiers', 'service_online_uptake_rate', 4, 0.8,
 'Đủ điểm từ 80 % / full points at 80 %; chia đều nhóm / group split evenly'),
('online_dossiers', 6, 'online_service', 3, 'Dịch vụ công trực tuyến', 'Online service', 12,
 'Hồ sơ trực tuyến', 'Online dossiers', 'online_dossier_rate', 4, 0.5,
 'Đủ điểm từ 50 % / full points at 50 %; chia đều nhóm / group split evenly'),
('digitized_dossiers', 7, 'digitization', 4, 'Số hóa hồ sơ', 'Digitization', 22,
 'Hồ sơ được số hóa thành phần', 'Dossiers with digitized components', 'digitized_dossier_rate', 8, 1,
 'Cách chia trong nhóm của kho dữ liệu / split within the group: this warehouse''s reading'),
('digitized_results', 8, 'digitization', 4, 'Số hóa hồ sơ', 'Digitization', 22,
 'Kết quả giải quyết được số hóa', 'Digitized results', 'digitized_result_rate', 8, 1,
 'Cách chia trong nhóm của kho dữ liệu / split within the group: this warehouse''s reading'),
('digitized_data_reused', 9, 'digitization', 4, 'Số hóa hồ sơ', 'Digitization', 22,
 'Khai thác, sử dụng lại dữ liệu số hóa', 'Digitized data reused', NULL, 6, NULL,
 'Không tính được: nguồn dữ liệu không ghi việc dùng lại giấy tờ đã số hóa / not computable: no source records the reuse of digitized papers'),
('satisfaction', 10, 'satisfaction', 5, 'Mức độ hài lòng', 'Satisfaction', 18,
 'Mức độ hài lòng của người dân, doanh nghiệp', 'Satisfaction of citizens and businesses', NULL, 18, NULL,
 'Không tính được: đánh giá hài lòng do Cổng DVCQG thu thập, không có trong nguồn dữ liệu / not computable: ratings are collected by the national portal, not in our sources'),
('paid_online_procedures', 11, 'online_payment', 6, 'Thanh toán trực tuyến', 'Online payment', 10,
 'TTHC có nghĩa vụ tài chính được thanh toán trực tuyến', 'Fee-bearing procedures paid online', 'fee_online_paid_procedure_rate', 5, 1,
 'Chia đều nhóm / group split evenly'),
('paid_online_dossiers', 12, 'online_payment', 6, 'Thanh toán trực tuyến', 'Online payment', 10,
 'Hồ sơ thanh toán trực tuyến', 'Dossiers paid online', 'online_payment_dossier_rate', 5, 1,
 'Chia đều nhóm / group split evenly');

-- One row per snapshot date x period x agency x criterion: the rate, its points, or why none.
CREATE OR REPLACE VIEW mart.agency_score_part AS
WITH scored AS (
    SELECT DISTINCT snapshot_date, period, agency_code FROM mart.indicator_snapshot
)
SELECT k.snapshot_date,
       k.period,
       k.agency_code,
       a.name AS agency_name,
       a.level_label,
       a.peer_group,
       c.group_code,
       c.group_order,
       c.group_name_vi,
       c.group_name_en,
       c.group_max,
       c.criterion_code,
       c.criterion_order,
       c.criterion_name_vi,
       c.criterion_name_en,
       c.indicator_code,
       s.numerator,
       s.denominator,
       s.value,
       c.threshold,
       c.max_points,
       CASE WHEN c.indicator_code IS NULL OR s.value IS NULL THEN NULL
            WHEN s.value >= c.threshold THEN c.max_points
            ELSE s.value * c.max_points / c.threshold END AS points,
       CASE WHEN c.indicator_code IS NULL THEN 'không tính được từ nguồn dữ liệu'
            WHEN s.value IS NULL THEN 'không có số liệu (mẫu số 0)'
            ELSE 'đã chấm' END AS status_vi
FROM scored k
CROSS JOIN mart.score_criterion c
LEFT JOIN mart.indicator_snapshot s
  ON s.snapshot_date = k.snapshot_date AND s.period = k.period AND s.agency_code = k.agency_code
 AND s.indicator_code = c.indicator_code
LEFT JOIN mart.agency a ON a.agency_code = k.agency_code;

-- The score: points scored (on the portal's 100-point scale), the maximum of the criteria that
-- could be scored, and score = 100 x points / that maximum.
CREATE OR REPLACE VIEW mart.agency_score AS
WITH totals AS (
    SELECT snapshot_date, period, agency_code, agency_name, level_label, peer_group,
           SUM(points) AS points,
           SUM(CASE WHEN points IS NOT NULL THEN max_points END) AS points_max,
           SUM(CASE WHEN indicator_code IS NULL THEN max_points ELSE 0 END) AS points_not_computable,
           SUM(CASE WHEN indicator_code IS NOT NULL AND points IS NULL THEN max_points ELSE 0 END) AS points_no_data,
           COUNT(points) AS criteria_scored,
           SUM(CASE WHEN group_code = 'transparency' THEN points END) AS transparency_points,
           SUM(CASE WHEN group_code = 'progress' THEN points END) AS progress_points,
           SUM(CASE WHEN group_code = 'online_service' THEN points END) AS online_service_points,
           SUM(CASE WHEN group_code = 'digitization' THEN points END) AS digitization_points,
           SUM(CASE WHEN group_code = 'online_payment' THEN points END) AS online_payment_points
    FROM mart.agency_score_part
    GROUP BY snapshot_date, period, agency_code, agency_name, level_label, peer_group
)
SELECT snapshot_date,
       period,
       agency_code,
       agency_name,
       level_label,
       peer_group,
       CAST(ROUND(CAST(100 * points / NULLIF(points_max, 0) AS numeric(12, 4)), 2) AS double precision) AS score,
       CAST(ROUND(CAST(points AS numeric(12, 4)), 2) AS double precision) AS points,
       points_max,
       points_not_computable,
       points_no_data,
       criteria_scored,
       CAST(ROUND(CAST(transparency_points AS numeric(12, 4)), 2) AS double precision) AS transparency_points,
       CAST(ROUND(CAST(progress_points AS numeric(12, 4)), 2) AS double precision) AS progress_points,
       CAST(ROUND(CAST(online_service_points AS numeric(12, 4)), 2) AS double precision) AS online_service_points,
       CAST(ROUND(CAST(digitization_points AS numeric(12, 4)), 2) AS double precision) AS digitization_points,
       CAST(ROUND(CAST(online_payment_points AS numeric(12, 4)), 2) AS double precision) AS online_payment_points
FROM totals;
