"""A plain-text scorecard of a snapshot, for people (the demo prints it). The Excel workbook and
the HTML dashboard are in etl/reports/."""
from __future__ import annotations

from datetime import date

import pandas as pd

from etl.warehouse import Warehouse, query_frame, sql_file


def scorecard(wh: Warehouse, day: date, period: str = "ytd") -> pd.DataFrame:
    with wh.begin() as conn:
        return query_frame(conn, sql_file("reports/scorecard.sql"), {"day": day, "period": period})


# The agency table shows these (the province block shows all 18).
KEY_INDICATORS = {
    "online_dossier_rate": "Online",
    "online_dossier_full_online_rate": "Full-online",
    "online_payment_dossier_rate": "Paid online",
    "on_time_rate": "On time",
    "digitized_dossier_rate": "Digitized",
    "national_portal_sync_rate": "Synced",
}


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and pd.isna(x)) or x is pd.NA


def _cell(value, target, meets) -> str:
    """'65.2% / 65% ✓' -- value, target, ✓ meets, ✗ below; '–' without a value."""
    if _missing(value):
        return "–"
    mark = "" if _missing(meets) else (" ✓" if bool(meets) else " ✗")
    goal = "" if _missing(target) else f" / {target:.0%}"
    return f"{value:.1%}{goal}{mark}"


def format_scorecard(frame: pd.DataFrame, day: date, period: str) -> str:
    if frame.empty:
        return f"No snapshot for {day} ({period})."
    root = frame[frame["parent_code"].isna()]
    others = frame[frame["parent_code"].notna()]
    lines = [f"Scorecard as of {day}, period {period} (value / target, ✓ meets, ✗ below, – nothing to measure)"]
    for code, name in root.drop_duplicates("agency_code")[["agency_code", "name"]].itertuples(index=False):
        lines += ["", f"{name} (province-wide)",
                  f"{'indicator':<58}{'value / target':<20}{'agencies meeting':<18}furthest below"]
        for r in root[root["agency_code"] == code].itertuples(index=False):
            peers = others[(others["indicator_code"] == r.indicator_code) & others["meets_target"].notna()]
            meeting = f"{int(peers['meets_target'].astype(bool).sum())} of {len(peers)}" if len(peers) else ""
            below = peers[~peers["meets_target"].astype(bool)]
            worst = ""
            if len(below):
                w = below.assign(gap=below["value"] - below["target"]).sort_values("gap").iloc[0]
                worst = f"{w['name']} {_cell(w['value'], w['target'], None)}"
            label = (r.indicator_name or r.indicator_code)[:56]
            lines.append(f"{label:<58}{_cell(r.value, r.target, r.meets_target):<20}{meeting:<18}{worst}")
    if not others.empty:
        width = max(34, int(others["name"].str.len().max()) + 2)
        head = f"{'Agency':<{width}}" + "".join(f"{label:<17}" for label in KEY_INDICATORS.values())
        lines += ["", head, "-" * len(head)]
        by_key = others.set_index(["agency_code", "indicator_code"])
        for code, name in others.drop_duplicates("agency_code")[["agency_code", "name"]].itertuples(index=False):
            cells = []
            for ind in KEY_INDICATORS:
                r = by_key.loc[(code, ind)] if (code, ind) in by_key.index else None
                cells.append(f"{'' if r is None else _cell(r['value'], r['target'], r['meets_target']):<17}")
            lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)
