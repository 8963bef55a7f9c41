-- Each item of exp_item for every agency whose figure it counts in (itself, or the successor or
-- parent that holds it on D, and every agency above along the hierarchy valid on D) and every
-- period kind whose window contains its event: the same mapping, roll-up and period windows as
-- aggregate.sql. :agency and :period narrow it (NULL: all), and so does exp_wanted once filled (the
-- figures a report lists: at the year's end a tenth of the year's items).
-- Parameters: :range_end (= D), :end_next_ts (D + 1 day 00:00), :agency, :period.
DROP TABLE IF EXISTS exp_scope;
CREATE TEMPORARY TABLE exp_scope AS
SELECT i.indicator_code, p.period, r.ancestor_code, m.mapped_code AS counted_for, a.name AS counted_for_name,
       i.agency_code, i.item_code, i.dossier_code, i.in_den, i.in_num, i.basis, i.dossiers, i.hits
FROM exp_item i
JOIN ind_period_kind p ON i.period IS NULL OR i.period = p.period
LEFT JOIN ind_period_end pe ON pe.e = i.event_date AND pe.period = p.period
JOIN ind_epoch ep ON ep.epoch_start <= CAST(:range_end AS date) AND ep.epoch_end >= CAST(:range_end AS date)
JOIN ind_agency_map m ON m.epoch_start = ep.epoch_start AND m.agency_code = i.agency_code
JOIN ind_rollup r ON r.epoch_start = ep.epoch_start AND r.agency_code = m.mapped_code
-- the name here, once: joined in the listings, after the history then, PostgreSQL expected one row and
-- scanned the agencies once per item (12.9 million comparisons, 2.2 s at the year's end)
LEFT JOIN core.agency a ON a.agency_code = m.mapped_code
WHERE (i.event_date IS NULL OR (i.event_date <= CAST(:range_end AS date) AND pe.period_end >= CAST(:range_end AS date)))
  AND (CAST(:agency AS text) IS NULL OR r.ancestor_code = CAST(:agency AS text))
  AND (CAST(:period AS text) IS NULL OR p.period = CAST(:period AS text))
  AND (NOT EXISTS (SELECT 1 FROM exp_wanted)
       OR EXISTS (SELECT 1 FROM exp_wanted w WHERE w.indicator_code = i.indicator_code
                                                AND w.ancestor_code = r.ancestor_code));

-- What the other systems knew about those dossiers by the end of D, each for the dossiers of the indicator
-- that shows it (etl.explain.FIELDS): the first successful online payment (online_payment_dossier_rate), the
-- first sync accepted by the national portal at or after the change that produced the dossier's state on D
-- (national_portal_sync_rate), the first (not cancelled) postal orders (bcci_receive_rate, bcci_return_rate).
-- A report's other figures list millions of dossiers at the year's end that show none of it.
DROP TABLE IF EXISTS exp_evidence;
CREATE TEMPORARY TABLE exp_evidence AS
WITH paid AS (
    SELECT t.dossier_code, MIN(t.transaction_at) AS paid_online_at
    FROM (
        SELECT dossier_code, transaction_at FROM core.payment
        WHERE method = 2 AND status IN ('paid', 'refunded')
        UNION ALL
        SELECT dossier_code, transaction_at FROM core.paygov_transaction WHERE error_code = '00'
    ) t
    WHERE t.transaction_at < CAST(:end_next_ts AS timestamp)
      AND t.dossier_code IN (SELECT dossier_code FROM exp_scope WHERE indicator_code = 'online_payment_dossier_rate')
    GROUP BY t.dossier_code
),
synced AS (  -- of a received version (the only ones whose sync a listing shows), from versions.sql
    SELECT s.dossier_code, MIN(s.synced_at) AS synced_at
    FROM ind_synced s
    WHERE s.synced_at < CAST(:end_next_ts AS timestamp)
      AND s.dossier_code IN (SELECT dossier_code FROM exp_scope WHERE indicator_code = 'national_portal_sync_rate')
    GROUP BY s.dossier_code
),
postal AS (
    SELECT o.dossier_code,
           MIN(CASE WHEN o.service_type = 'THU_GOM' THEN o.created_at END) AS post_collect_at,
           MIN(CASE WHEN o.service_type = 'PHAT_KQ' THEN o.created_at END) AS post_deliver_at
    FROM core.postal_order o
    WHERE o.collection_status <> 4 AND o.created_at < CAST(:end_next_ts AS timestamp)
      AND o.dossier_code IN (SELECT dossier_code FROM exp_scope
                             WHERE indicator_code IN ('bcci_receive_rate', 'bcci_return_rate'))
    GROUP BY o.dossier_code
),
listed AS (
    SELECT dossier_code FROM paid UNION SELECT dossier_code FROM synced UNION SELECT dossier_code FROM postal
)
SELECT l.dossier_code, p.paid_online_at, s.synced_at, o.post_collect_at, o.post_deliver_at
FROM listed l
LEFT JOIN paid p ON p.dossier_code = l.dossier_code
LEFT JOIN synced s ON s.dossier_code = l.dossier_code
LEFT JOIN postal o ON o.dossier_code = l.dossier_code;

-- The listings join it last. When they still joined the history by (dossier, version time), PostgreSQL
-- estimated that join at one row, whatever it held, and then scanned the whole table once per listed dossier
-- (a report of a mid-year night at 15 million a year was stopped after 30 minutes). With the index it
-- probes it, whatever the estimate before it.
CREATE INDEX exp_evidence_dossier ON exp_evidence (dossier_code);
