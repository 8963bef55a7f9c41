-- The drill-down of one snapshot date D: which dossiers, transactions or services make up the
-- numerator and the denominator of a row of mart.indicator_snapshot (etl/explain.py).
-- Runs after indicators/prepare.sql for the single date D (:range_start = :range_end = D), in the
-- same transaction, and reads its working tables (ind_*): an item counts here exactly where it
-- counts in the measures, because it is taken from the same rows with the same conditions.
-- Parameters: :range_end (= D).

-- What the files in dossier/, transaction/ and service/ write, one row per item: counted in the
-- periods that contain event_date (NULL: every period) or, for services, in `period` only.
DROP TABLE IF EXISTS exp_item;
CREATE TEMPORARY TABLE exp_item (
    indicator_code  text NOT NULL,
    period          text,
    event_date      date,
    item_code       text NOT NULL,   -- dossier code, transaction id, or procedure code of a service
    dossier_code    text,
    agency_code     text NOT NULL,   -- as the source has it (before mergers and roll-up)
    in_den          bigint NOT NULL,
    in_num          bigint NOT NULL,
    basis           text NOT NULL,   -- why it is (not) in the numerator, in Vietnamese
    dossiers        bigint,          -- services: dossiers of the period
    hits            bigint           -- services: of which those that make the service count
);

-- Received dossiers per period kind that contains their receipt, with the service (agency mapped
-- to the one holding it on D, procedure) they belong to: the "services with at least one dossier"
-- indicators group them (as services.sql does).
DROP TABLE IF EXISTS exp_service_dossier;
CREATE TEMPORARY TABLE exp_service_dossier AS
SELECT pe.period, m.mapped_code AS agency_code, v.procedure_code, v.dossier_code, v.channel,
       v.result_channel, v.paid_flag
FROM ind_recv v
JOIN ind_period_end pe ON pe.e = v.received_event AND pe.period_end >= CAST(:range_end AS date)
JOIN ind_epoch ep ON ep.epoch_start <= CAST(:range_end AS date) AND ep.epoch_end >= CAST(:range_end AS date)
JOIN ind_agency_map m ON m.epoch_start = ep.epoch_start AND m.agency_code = v.agency_code
WHERE v.received_event <= CAST(:range_end AS date);
