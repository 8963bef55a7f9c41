-- After a batch of an entity that refers to dossiers (:s source, :e entity, :b batch).
-- Waiting records whose dossier has arrived loaded in this batch: they wait no more.
DELETE FROM ops.pending
WHERE source = :s AND entity = :e
  AND EXISTS (SELECT 1 FROM core.dossier_history h WHERE h.dossier_code = ops.pending.dossier_code);

-- Still waiting after the look-back horizon: orphans, quarantined with that reason.
INSERT INTO ops.quarantine (source, entity, record_key, payload_hash, payload, failed_expectations, batch_id,
                            first_batch_id)
SELECT source, entity, record_key, payload_hash, payload, :reason, :b, first_batch_id
FROM ops.pending
WHERE source = :s AND entity = :e AND first_seen_day < :horizon
ON CONFLICT (source, entity, record_key, payload_hash)
DO UPDATE SET failed_expectations = excluded.failed_expectations, batch_id = excluded.batch_id;

DELETE FROM ops.pending
WHERE source = :s AND entity = :e AND first_seen_day < :horizon;
