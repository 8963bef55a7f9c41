"""Response schemas (pydantic) of the three systems, for the OpenAPI documents. The handlers
return pre-serialized JSON for speed; tests/test_mocks_openapi.py checks the responses
against these schemas (with fault injection off)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

D14 = r"^\d{14}$"


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ one-stop (§1)
class Agency(_M):
    MaDonVi: str
    TenDonVi: str
    Cap: int = Field(ge=1, le=3)
    MaDonViCha: str | None
    HieuLucTu: str = Field(pattern=D14)
    HieuLucDen: str | None = Field(pattern=D14)
    MaDonViKeThua: str | None


class Procedure(_M):
    MaTTHC: str
    TenTTHC: str
    MaLinhVuc: str
    TenLinhVuc: str
    CapThucHien: list[int]
    DuDieuKienToanTrinh: int = Field(ge=0, le=1)
    CoPhiLePhi: int = Field(ge=0, le=1)


class ServiceConfig(_M):
    MaDonVi: str
    MaTTHC: str
    MucDo: Literal["TOAN_TRINH", "MOT_PHAN", "TRUC_TIEP"] | Literal[4, 3, 2]
    CoThanhToanTrucTuyen: int = Field(ge=0, le=1)
    CoBCCI: int = Field(ge=0, le=1)
    HieuLucTu: str = Field(pattern=D14)
    HieuLucDen: str | None = Field(pattern=D14)


class Fee(_M):
    MaPhiLePhi: str
    TenPhiLePhi: str
    Gia: int
    HinhThucThu: int


class Supplement(_M):
    NgayYeuCau: str = Field(pattern=D14)
    NgayBoSung: str | None = Field(pattern=D14)
    NgayHenTraCu: str = Field(pattern=D14)
    NgayHenTraMoi: str | None = Field(pattern=D14)


class ResultDocument(_M):
    MaGiayTo: str
    TenGiayTo: str


class Applicant(_M):
    HoVaTen: str
    SoDinhDanh: str = Field(pattern=r"^\d{12}$")
    SoDienThoai: str
    DiaChi: str


class Dossier(_M):
    MaHoSo: str
    MaTTHC: str
    MaLinhVuc: str | None
    DonViXuLy: str
    KenhThucHien: int | None = Field(ge=1, le=3)
    TrangThaiHoSo: int = Field(ge=1, le=10)
    NgayNopHoSo: str = Field(pattern=D14)
    NgayTiepNhan: str | None = Field(pattern=D14)
    NgayHenTra: str | None = Field(pattern=D14)
    NgayKetThucXuLy: str | None = Field(pattern=D14)
    NgayTra: str | None = Field(pattern=D14)
    NgayTuChoi: str | None = Field(pattern=D14)
    HinhThucTraKetQua: int | None = Field(ge=1, le=3)
    HoSoCoThanhPhanSoHoa: int | None = Field(ge=0, le=1)
    KetQuaDuocSoHoa: int | None = Field(ge=0, le=1)
    DuocKySo: int | None = Field(ge=0, le=1)
    DuocThanhToanTrucTuyen: int | None = Field(ge=0, le=2)
    DanhSachLePhi: list[Fee]
    DanhSachHoSoBoSung: list[Supplement]
    DanhSachGiayToKetQua: list[ResultDocument]
    ChuHoSo: Applicant
    NgayCapNhat: str = Field(pattern=D14)


class Payment(_M):
    MaGiaoDich: str
    MaHoSo: str
    SoTien: int
    HinhThucThanhToan: int = Field(ge=1, le=2)
    KenhThanhToan: Literal["DVCQG", "CONG_TINH", "TAI_QUAY"]
    TrangThai: Literal["CHO", "DA_THANH_TOAN", "HUY", "HOAN_PHI"]
    ThoiGianGD: str = Field(pattern=D14)
    SoBienLai: str | None
    NgayCapNhat: str = Field(pattern=D14)


class _Envelope(_M):
    error_code: int
    message: str
    total: int
    page: int
    pageSize: int


class OneStopEnvelope(_Envelope):
    data: list[dict]


class AgencyEnvelope(_Envelope):
    data: list[Agency]


class ProcedureEnvelope(_Envelope):
    data: list[Procedure]


class ServiceConfigEnvelope(_Envelope):
    data: list[ServiceConfig]


class DossierEnvelope(_Envelope):
    data: list[Dossier]


class PaymentEnvelope(_Envelope):
    data: list[Payment]


# ------------------------------------------------------------------ NDXP (§2)
ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$"


class Token(_M):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class OAuthError(_M):
    error: str
    error_description: str | None = None


class SyncReceipt(_M):
    maHoSo: str
    maTTHC: str
    maDonVi: str
    thoiDiemDongBo: str = Field(pattern=ISO)
    loaiDongBo: Literal["INSERT", "UPDATE"]
    errorCode: int
    errorMessage: str | None


class IntegratedService(_M):
    maTTHC: str
    maDonVi: str
    ngayTichHop: str = Field(pattern=ISO)
    ngayNgungTichHop: str | None = Field(pattern=ISO)


class PayGovTransaction(_M):
    maThamChieu: str
    maGiaoDich: str
    soTien: int
    maLoi: str
    thoiGianGD: str = Field(pattern=D14)
    kenh: str


class SyncPage(_M):
    items: list[SyncReceipt]
    nextCursor: str | None


class IntegratedPage(_M):
    items: list[IntegratedService]
    nextCursor: str | None


class PayGovPage(_M):
    items: list[PayGovTransaction]
    nextCursor: str | None


class NdxpError(_M):
    error: str
    message: str


# ------------------------------------------------------------------ VNPost (§3)
VND = r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$"


class VnpostAuth(_M):
    username: str
    password: str


class VnpostToken(_M):
    access_token: str


class BcciOrder(_M):
    ItemCode: str
    OrderNumber: str
    ServiceType: Literal["THU_GOM", "PHAT_KQ"]
    CollectionStatus: int = Field(ge=0, le=4)
    CreatedDate: str = Field(pattern=VND)
    DeliveredDate: str | None = Field(pattern=VND)
    CODAmount: int
    ReceiverProvince: str
    LastModified: str = Field(pattern=VND)


class VnpostEnvelope(_M):
    Status: str
    Message: str
    Total: int
    Items: list[BcciOrder]
