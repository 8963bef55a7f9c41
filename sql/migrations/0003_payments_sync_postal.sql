-- Payments, national-portal sync receipts and integrated services (NDXP), postal orders (VNPost).
-- Natural keys are the sources' own; every load upserts on them.

-- One-stop payments (GET /onestop/api/v1/thanhtoan): the current state of each transaction.
CREATE TABLE IF NOT EXISTS core.payment (
    transaction_id   text PRIMARY KEY,     -- MaGiaoDich
    dossier_code     text NOT NULL,        -- MaHoSo
    amount           bigint NOT NULL,      -- SoTien, VND
    method           integer NOT NULL,     -- HinhThucThanhToan: 1 at the counter, 2 online
    channel          text NOT NULL,        -- KenhThanhToan: DVCQG | CONG_TINH | TAI_QUAY
    status           text NOT NULL,        -- pending | paid | cancelled | refunded (TrangThai CHO, DA_THANH_TOAN, HUY, HOAN_PHI)
    transaction_at   timestamp NOT NULL,   -- ThoiGianGD
    receipt_no       text,                 -- SoBienLai
    updated_at       timestamp NOT NULL,   -- NgayCapNhat
    batch_id         bigint NOT NULL
);

-- National payment platform transactions (GET /ndxp/paygov/v1/giaodich).
CREATE TABLE IF NOT EXISTS core.paygov_transaction (
    transaction_id   text PRIMARY KEY,     -- maGiaoDich
    dossier_code     text NOT NULL,        -- maThamChieu
    amount           bigint NOT NULL,      -- soTien
    error_code       text NOT NULL,        -- maLoi; '00' = success
    transaction_at   timestamp NOT NULL,   -- thoiGianGD
    channel          text,                 -- kenh
    batch_id         bigint NOT NULL
);

-- National-portal sync receipts (GET /ndxp/dvcqg/v1/dongbo): one per sync attempt.
CREATE TABLE IF NOT EXISTS core.sync_receipt (
    dossier_code     text NOT NULL,        -- maHoSo
    synced_at        timestamp NOT NULL,   -- thoiDiemDongBo, converted to local time
    sync_type        text NOT NULL,        -- loaiDongBo: INSERT | UPDATE
    procedure_code   text,                 -- maTTHC
    agency_code      text,                 -- maDonVi
    error_code       integer NOT NULL,     -- 0 = accepted
    error_message    text,
    batch_id         bigint NOT NULL,
    PRIMARY KEY (dossier_code, synced_at, sync_type)
);

-- Services integrated on the national portal (GET /ndxp/dvcqg/v1/thutuc-tichhop), with history.
CREATE TABLE IF NOT EXISTS core.integrated_service (
    procedure_code   text NOT NULL,        -- maTTHC
    agency_code      text NOT NULL,        -- maDonVi
    integrated_from  date NOT NULL,        -- ngayTichHop
    integrated_to    date,                 -- ngayNgungTichHop; NULL = still integrated
    PRIMARY KEY (procedure_code, agency_code, integrated_from)
);

-- VNPost BCCI orders (GET /vnpost/api/bcci/orders): the current state of each waybill.
CREATE TABLE IF NOT EXISTS core.postal_order (
    item_code          text PRIMARY KEY,   -- ItemCode (waybill)
    dossier_code       text NOT NULL,      -- OrderNumber
    service_type       text NOT NULL,      -- THU_GOM collect a dossier | PHAT_KQ deliver a result
    collection_status  integer NOT NULL,   -- 0 none, 1 registered, 2 collecting, 3 delivered, 4 cancelled
    created_at         timestamp NOT NULL,
    delivered_at       timestamp,
    cod_amount         bigint,
    receiver_province  text,
    updated_at         timestamp NOT NULL, -- LastModified
    batch_id           bigint NOT NULL
);

-- Incremental extraction: per source and entity, the end of the last window loaded.
-- Advanced in the same transaction as the load it describes.
CREATE TABLE IF NOT EXISTS ops.watermark (
    source        text NOT NULL,
    entity        text NOT NULL,
    loaded_until  timestamp NOT NULL,
    batch_id      bigint NOT NULL,
    PRIMARY KEY (source, entity)
);
