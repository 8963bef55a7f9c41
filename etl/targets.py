"""Targets are data: sql/seeds/targets.csv (from the provincial plans and decisions) into
core.target, with the agency names the documents use resolved to agency codes."""
from __future__ import annotations

import logging
import re
import unicodedata

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl.warehouse import SQL_DIR, Warehouse

log = logging.getLogger(__name__)


def _normalize_name(name: str) -> str:
    text = unicodedata.normalize("NFC", name).casefold()
    return re.sub(r"[\W_]+", "", text)


def load_targets(wh: Warehouse, conn: Connection, province: str) -> int:
    """sql/seeds/targets.csv into core.target, resolving agency names to codes for `province`."""
    frame = pd.read_csv(SQL_DIR / "seeds" / "targets.csv", dtype={"target": "float64"}, keep_default_na=True)
    frame["strict"] = frame["strict"].astype(str).str.lower().eq("true")
    names = {_normalize_name(n): c for c, n in conn.execute(sa.text("SELECT agency_code, name FROM core.agency"))}
    # Plans abbreviate agency names; sql/seeds/agency_aliases.csv spells them out.
    aliases = pd.read_csv(SQL_DIR / "seeds" / "agency_aliases.csv", dtype=str)
    for written, official in zip(aliases["document_name"], aliases["official_name"], strict=True):
        if _normalize_name(official) in names:
            names.setdefault(_normalize_name(written), names[_normalize_name(official)])
    frame["agency_code"] = [
        names.get(_normalize_name(s)) if p == province and s != "all" and not s.startswith("level:") else None
        for p, s in zip(frame["province"], frame["scope"], strict=True)]
    named = (frame["province"] == province) & (frame["scope"] != "all") & ~frame["scope"].str.startswith("level:")
    missing = sorted(set(frame.loc[named & frame["agency_code"].isna(), "scope"]))
    if missing:
        log.warning("targets for %d agencies match no agency name of %s: %s", len(missing), province,
                    "; ".join(missing))
    frame["target"] = frame["target"].astype(object).where(frame["target"].notna(), None)
    return wh.upsert_frame(conn, frame, "core.target", ["province", "year", "indicator_code", "scope"])
