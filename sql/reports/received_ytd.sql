-- Dossiers received from 1 January to the report date, each in its version valid at the end of
-- the report date (as the indicators count them), with the service configuration valid then and
-- any VNPost order (not cancelled) by then: one row per dossier, for the lists of the Cao Bằng
-- quarterly outline (Phụ lục II).
-- Parameters: :day (the report date), :year_start (1 January 00:00), :next_day (:day + 1, 00:00).
SELECT h.dossier_code, h.agency_code, h.procedure_code, h.channel, h.result_channel,
       c.service_level,
       COALESCE(o.collected, 0) AS collected, COALESCE(o.delivered, 0) AS delivered
FROM core.dossier_history h
LEFT JOIN core.service_config c
  ON c.agency_code = h.agency_code AND c.procedure_code = h.procedure_code
 AND c.valid_from <= CAST(:day AS date) AND (c.valid_to IS NULL OR c.valid_to >= CAST(:day AS date))
LEFT JOIN (
    SELECT dossier_code,
           MAX(CASE WHEN service_type = 'THU_GOM' THEN 1 ELSE 0 END) AS collected,
           MAX(CASE WHEN service_type = 'PHAT_KQ' THEN 1 ELSE 0 END) AS delivered
    FROM core.postal_order
    WHERE collection_status <> 4 AND created_at < :next_day
    GROUP BY dossier_code
) o ON o.dossier_code = h.dossier_code
WHERE h.updated_at < :next_day
  AND (h.valid_to IS NULL OR h.valid_to >= :next_day)
  AND h.received_at >= :year_start AND h.received_at < :next_day
  AND h.status NOT IN (1, 3);
