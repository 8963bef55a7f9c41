-- A portal can log a rejected and an accepted attempt of the same dossier in the same second:
-- both are facts, so the error code joins the natural key. Neither database can change a
-- primary key portably in place: build the new table, copy, swap.
CREATE TABLE core.sync_receipt_v2 (
    dossier_code     text NOT NULL,        -- maHoSo
    synced_at        timestamp NOT NULL,   -- thoiDiemDongBo, converted to local time
    sync_type        text NOT NULL,        -- loaiDongBo: INSERT | UPDATE
    procedure_code   text,                 -- maTTHC
    agency_code      text,                 -- maDonVi
    error_code       integer NOT NULL,     -- 0 = accepted
    error_message    text,
    batch_id         bigint NOT NULL,
    PRIMARY KEY (dossier_code, synced_at, sync_type, error_code)
);

INSERT INTO core.sync_receipt_v2
SELECT dossier_code, synced_at, sync_type, procedure_code, agency_code, error_code, error_message, batch_id
FROM core.sync_receipt;

DROP TABLE core.sync_receipt;

ALTER TABLE core.sync_receipt_v2 RENAME TO sync_receipt;
