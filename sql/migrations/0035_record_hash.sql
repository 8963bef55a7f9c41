-- A keyed hash of the source record each row of a daily feed was loaded from (etl/transform.py,
-- fingerprints): a night's look-back re-reads days already loaded, and finds those records by it
-- before parsing them. NULL on rows loaded before: their records are compared parsed, as before.
ALTER TABLE staging.dossier ADD COLUMN IF NOT EXISTS record_hash text;
ALTER TABLE core.dossier_history ADD COLUMN IF NOT EXISTS record_hash text;
ALTER TABLE core.payment ADD COLUMN IF NOT EXISTS record_hash text;
ALTER TABLE core.sync_receipt ADD COLUMN IF NOT EXISTS record_hash text;
ALTER TABLE core.paygov_transaction ADD COLUMN IF NOT EXISTS record_hash text;
ALTER TABLE core.postal_order ADD COLUMN IF NOT EXISTS record_hash text;
