"""Personal data never reaches the warehouse in clear text: applicants' names, phones and
addresses are dropped; the ID number is replaced by a keyed hash (HMAC-SHA256 with
PII_HASH_KEY), so the same applicant can still be counted without being identified."""
from __future__ import annotations

import hashlib
import hmac

from etl.config import settings

PERSONAL_FIELDS = ("ChuHoSo", "DinhDanhCHS")


def applicant_key(id_number: str | None, key: bytes) -> str | None:
    if not id_number:
        return None
    return hmac.new(key, str(id_number).encode(), hashlib.sha256).hexdigest()[:32]


def pii_key() -> bytes:
    return settings().pii_hash_key.encode()


def pseudonymize(record: dict, key: bytes) -> dict:
    """A copy of a dossier record without personal data; `ChuHoSo` keeps only the hashed ID."""
    clean = {k: v for k, v in record.items() if k not in PERSONAL_FIELDS}
    applicant = record.get("ChuHoSo") or {}
    id_number = applicant.get("SoDinhDanh") if isinstance(applicant, dict) else None
    id_number = id_number or record.get("DinhDanhCHS")
    clean["ChuHoSo"] = {"KhoaDinhDanh": applicant_key(id_number, key)}
    return clean
