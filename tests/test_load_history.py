"""core.dossier_history does not depend on how a batch is cut into chunks: the versions of new dossiers alone
in their chunk go straight to the history, the others to staging, and the batch is merged once
(sql/load/merge_dossier.sql). The same versions in one chunk, in many small
chunks, out of order, across batches and loaded twice give the same history (valid_to included), on
DuckDB and PostgreSQL; the merge's joins stay set-based on PostgreSQL."""
from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime

import pytest

from etl import load, transform
from tests.fixtures.plans import nested_loops_rescanning
from tests.fixtures.small_province import COMM, DEPT, DIST, load_fixture, version

RECORDS = [
    # a1: three versions, each valid until the next
    version("a1", DEPT, "20220310100000", status=2, received="20220310100000"),
    version("a1", DEPT, "20220311100000", status=4, received="20220310100000", due="20220320170000"),
    version("a1", DEPT, "20220312100000", status=9, received="20220310100000", due="20220320170000",
            finished="20220312100000"),
    # a2, a4..a7: one version each
    version("a2", COMM, "20220301080000", status=4, received="20220301080000"),
    *(version(f"a{i}", DIST, f"202203{i:02d}080000", status=4, received=f"202203{i:02d}080000") for i in range(4, 8)),
    # a3: two versions
    version("a3", COMM, "20220305080000", status=2, received="20220305080000"),
    version("a3", COMM, "20220306080000", status=5, received="20220305080000", supplements=1),
    # a8: four versions
    *(version("a8", DIST, f"2022030{d}120000", status=s, received="20220301120000") for d, s in
      ((1, 2), (2, 4), (3, 5), (4, 9))),
]


# a3's first version sent again with a higher status. Within one chunk validation quarantines both
# copies (a duplicate key); in different chunks of a batch the copy with the higher status wins.
RESENT = version("a3", COMM, "20220305080000", status=4, received="20220305080000", due="20220310170000")


def _time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y%m%d%H%M%S")


def expected_history(records=RECORDS) -> list[tuple]:
    """(dossier_code, updated_at, valid_to, status) worked out from the records: the highest status of a
    version, each version valid until the next one of its dossier."""
    status: dict[tuple[str, datetime], int] = {}
    for r in records:
        key = (r["MaHoSo"], _time(r["NgayCapNhat"]))
        status[key] = max(status.get(key, 0), r["TrangThaiHoSo"])
    keys = sorted(status)
    return [(code, at, keys[i + 1][1] if i + 1 < len(keys) and keys[i + 1][0] == code else None, status[code, at])
            for i, (code, at) in enumerate(keys)]


def history(wh) -> list[tuple]:
    with wh.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM staging.dossier").scalar() == 0
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT dossier_code, updated_at, valid_to, status FROM core.dossier_history ORDER BY 1, 2")]


def load_dossiers(wh, pages) -> load.BatchResult:
    batch = load.open_batch(wh, "onestop", "dossier", None, None)
    with wh.begin() as conn:
        return load.load_batch(wh, conn, load.entity("dossier", b"k"), pages, batch)


def one_page_each(records):
    return [[r] for r in records]


def test_one_chunk(warehouse):
    batch = load_fixture(warehouse, [RECORDS])
    assert batch.loaded == len(expected_history())
    assert history(warehouse) == expected_history()


@pytest.mark.parametrize("order", ["as sent", "reversed", "shuffled"])
def test_small_chunks_in_any_order(warehouse, monkeypatch, order):
    records = {"as sent": RECORDS, "reversed": RECORDS[::-1],
               "shuffled": random.Random(3).sample(RECORDS, len(RECORDS))}[order]
    monkeypatch.setattr(load, "CHUNK_RECORDS", 3)
    load_fixture(warehouse, one_page_each(records))
    assert history(warehouse) == expected_history()


def test_across_batches_and_reloaded(warehouse, monkeypatch):
    monkeypatch.setattr(load, "CHUNK_RECORDS", 2)
    # a first batch with every other version (not a3's: a version seen again later is left as it was)
    load_fixture(warehouse, one_page_each([r for r in RECORDS if r["MaHoSo"] != "a3"][::2]))
    partial = history(warehouse)
    assert len(partial) < len(expected_history())
    load_dossiers(warehouse, one_page_each(RECORDS[::-1]))
    assert history(warehouse) == expected_history()
    # everything again, in other chunks: nothing changes
    monkeypatch.setattr(load, "CHUNK_RECORDS", 5)
    load_dossiers(warehouse, one_page_each(RECORDS))
    assert history(warehouse) == expected_history()


@pytest.mark.parametrize("resent_first", [False, True])
def test_a_version_resent_in_a_later_chunk_keeps_the_highest_status(warehouse, monkeypatch, resent_first):
    monkeypatch.setattr(load, "CHUNK_RECORDS", 1)
    records = [RESENT, *RECORDS] if resent_first else [*RECORDS, RESENT]
    load_fixture(warehouse, one_page_each(records))
    assert history(warehouse) == expected_history(records)
    assert ("a3", _time("20220305080000"), _time("20220306080000"), 4) in history(warehouse)


def test_a_chunk_s_versions_of_new_dossiers_alone_in_it_are_written_straight_to_the_history(warehouse):
    """load.write_versions: a version of a dossier the history holds none of, alone in its chunk, goes straight to
    the history (written once); several versions of a new dossier, and a version of a stored one, go to staging,
    and the merge gives each its valid_to. A version sent twice in the chunk is one version."""
    load_fixture(warehouse, [[version("s1", DEPT, "20220301080000", status=2)]])
    spec = load.entity("dossier", b"k")
    sent = [version("n1", DEPT, "20220302080000"),
            version("n2", DIST, "20220302080000", status=2), version("n2", DIST, "20220303080000", status=9),
            version("s1", DEPT, "20220302080000", status=9),
            version("n3", COMM, "20220304080000"), version("n3", COMM, "20220304080000")]
    records = spec.pseudonymized(sent)
    frame = transform.frame(spec.spec, records).assign(record_hash=spec.fingerprints(sent))
    batch = load.open_batch(warehouse, "onestop", "dossier", None, None)
    with warehouse.begin() as conn:
        written = load.write_versions(warehouse, conn, spec, frame[spec.loaded].assign(batch_id=batch.batch_id),
                                      frame["dossier_code"] != "s1")
        straight, staged = ([tuple(r) for r in conn.exec_driver_sql(
            f"SELECT dossier_code, updated_at FROM {table} WHERE batch_id = {batch.batch_id} ORDER BY 1, 2")]
            for table in ("core.dossier_history", "staging.dossier"))
        warehouse.run_script(conn, spec.merge_sql, {"batch_id": batch.batch_id})
    assert written == 5
    assert straight == [("n1", _time("20220302080000")), ("n3", _time("20220304080000"))]
    assert staged == [("n2", _time("20220302080000")), ("n2", _time("20220303080000")),
                      ("s1", _time("20220302080000"))]
    assert history(warehouse) == expected_history([version("s1", DEPT, "20220301080000", status=2), *sent])


def test_stored_fingerprints_tell_held_records_apart_from_changed_and_new_ones(warehouse):
    """Warehouse.stored_fingerprints: "same" where a row holds the record's hash, None (compare) where rows hold
    its key but not its hash (a hash cleared counts as not held), "new" where no row holds its key."""
    import pandas as pd

    with warehouse.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE held (code text, version integer, record_hash text)")
        conn.exec_driver_sql("INSERT INTO held VALUES ('a', 1, 'h-a1'), ('a', 2, 'h-a2'), ('b', 1, NULL), "
                             "('c', 1, 'h-c1')")
        frame = pd.DataFrame({"code": ["a", "a", "b", "d", "c"], "_row": [10, 11, 12, 13, 14],
                              "record_hash": ["h-a2", "h-a3", "h-b1", "h-d1", "h-c1"]})
        states = warehouse.stored_fingerprints(conn, frame, "held", "code")
    assert [s if isinstance(s, str) else None for s in states] == ["same", None, None, "new", "same"]


def test_a_night_of_new_versions_is_merged_without_rescanning_a_table_per_row(pg_url):
    """A night's versions are mostly new versions of stored dossiers. Asked to leave the stored versions out
    before joining the touched dossiers, PostgreSQL expected one row to remain and joined the touched
    dossiers by rescanning them once a row (13 s for 18,000 versions against 6.5 million). Every join of
    the merge finds its rows by hash or index."""
    from etl.warehouse import Warehouse, execute_named, split_statements, sql_file

    wh = Warehouse(pg_url)
    wh.migrate()
    dossiers = 5_000
    with wh.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO core.dossier_history (dossier_code, updated_at, procedure_code, agency_code, channel, status, "
            "supplement_count, batch_id) SELECT 'H-' || i, TIMESTAMP '2022-03-01' + i * INTERVAL '1 minute', 'P', 'A', "
            f"1, 2, 0, 1 FROM generate_series(1, {dossiers}) i")
        conn.exec_driver_sql("ANALYZE core.dossier_history")
        conn.exec_driver_sql(
            "INSERT INTO staging.dossier (batch_id, dossier_code, updated_at, procedure_code, agency_code, channel, "
            "status, supplement_count) SELECT 2, dossier_code, updated_at + INTERVAL '1 day', procedure_code, "
            "agency_code, channel, 9, supplement_count FROM core.dossier_history")
        rescans = []
        for stmt in split_statements(sql_file(load.entity("dossier").merge_sql)):
            if stmt.lstrip().upper().startswith(("INSERT", "UPDATE")):
                [[plan]] = execute_named(conn, "EXPLAIN (ANALYZE, FORMAT JSON) " + stmt, {"batch_id": 2}).one()
                rescans += nested_loops_rescanning(plan["Plan"])
            else:
                execute_named(conn, stmt, {"batch_id": 2})
        versions, open_versions = conn.exec_driver_sql(
            "SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL) FROM core.dossier_history").one()
    wh.dispose()
    assert (versions, open_versions) == (2 * dossiers, dossiers)
    assert rescans == []


def test_a_quarantined_record_keeps_its_pseudonymized_payload_once_whatever_copies_came(warehouse):
    """A record is written out as JSON only when it is quarantined: the stored payload is the pseudonymized record
    (keys sorted, text as it is), hashed as ops.quarantine's key; a copy differing only in personal data is the
    same record; the valid rows load beside it."""
    bad = version("q1", "XX.UNKNOWN", "20220305080000", received="20220305080000")
    copy = {**bad, "ChuHoSo": {**bad["ChuHoSo"], "HoVaTen": "Lê Văn C"}}
    batch = load_fixture(warehouse, [[*RECORDS, bad, copy]])
    assert batch.quarantined == 1 and batch.loaded == len(expected_history())
    with warehouse.begin() as conn:
        [(payload, payload_hash, reason)] = conn.exec_driver_sql(
            "SELECT payload, payload_hash, failed_expectations FROM ops.quarantine").all()
    expected = json.dumps(load.entity("dossier", b"k").pseudonymized([bad])[0], ensure_ascii=False, sort_keys=True)
    assert payload == expected and payload_hash == hashlib.sha256(expected.encode()).hexdigest()
    assert not any(clear in payload for clear in ("Trần Thị Bình", "Lê Văn C", "010203040506", "0987654321"))
    assert json.loads(payload)["DonViXuLy"] == "XX.UNKNOWN"
    assert "agency_code" in reason


def test_postgresql_is_told_a_dossier_has_a_few_versions_and_duckdb_is_not_asked(pg_url, duckdb_url):
    """ANALYZE underestimates the distinct dossier codes of the history and of the sync receipts as they grow
    (320,923 for 15 million dossiers in 80 million versions; 623,729 for 6.2 million in 32 million receipts),
    and the history's night probes and valid_to update then scanned the whole table (388 s against 39 s). The
    PostgreSQL-only migrations fix both estimates at a fifth of the rows; DuckDB gets no PostgreSQL syntax."""
    from etl.warehouse import Warehouse

    pg = Warehouse(pg_url)
    applied = set(pg.migrate())
    assert {"postgresql/0037_dossier_code_distinct.sql", "postgresql/0038_sync_receipt_code_distinct.sql"} <= applied
    with pg.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO core.dossier_history (dossier_code, updated_at, procedure_code, agency_code, channel, status, "
            "supplement_count, batch_id) SELECT 'H-' || i, TIMESTAMP '2022-03-01' + i * INTERVAL '1 minute', 'P', 'A', "
            "1, 2, 0, 1 FROM generate_series(1, 1000) i")
        conn.exec_driver_sql(
            "INSERT INTO core.sync_receipt (dossier_code, synced_at, sync_type, error_code, batch_id) "
            "SELECT 'H-' || i, TIMESTAMP '2022-03-01' + i * INTERVAL '1 minute', 'INSERT', 0, 1 "
            "FROM generate_series(1, 1000) i")
        conn.exec_driver_sql("ANALYZE core.dossier_history")
        conn.exec_driver_sql("ANALYZE core.sync_receipt")
        assert dict(conn.exec_driver_sql(
            "SELECT tablename, n_distinct FROM pg_stats WHERE schemaname = 'core' "
            "AND tablename IN ('dossier_history', 'sync_receipt') AND attname = 'dossier_code'").all()) == \
            {"dossier_history": -0.2, "sync_receipt": -0.2}
    assert pg.migrate() == []
    pg.dispose()
    duck = Warehouse(duckdb_url)
    applied = duck.migrate()
    duck.dispose()
    assert applied and not any(name.startswith("postgresql/") for name in applied)


def test_the_day_indexes_are_kept_only_where_they_are_read(pg_url, duckdb_url):
    """PostgreSQL finds one day's rows of mart.data_quality by the indexes of 0033; DuckDB scans, skipping row
    groups by their min/max, and never reads them (its plan for a day of the view has no index scan), while every
    insert would maintain them: its own migration leaves them out."""
    from etl.warehouse import Warehouse

    wanted = {("dossier_history", "dossier_history_batch_idx"), ("dossier_history", "dossier_history_day_idx"),
              ("payment", "payment_batch_idx"), ("postal_order", "postal_order_batch_idx")}
    pg = Warehouse(pg_url)
    pg.migrate()
    with pg.begin() as conn:
        assert wanted <= set(conn.exec_driver_sql(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'core'").all())
    pg.dispose()
    duck = Warehouse(duckdb_url)
    assert "duckdb/0040_no_row_indexes.sql" in duck.migrate()
    load_fixture(duck, [RECORDS])
    with duck.begin() as conn:
        assert conn.exec_driver_sql(
            "SELECT table_name, index_name FROM duckdb_indexes() WHERE schema_name = 'core'").all() == []
        plan = "\n".join(row[1] for row in conn.exec_driver_sql(
            "EXPLAIN SELECT * FROM mart.data_quality WHERE data_day = DATE '2022-03-11'").all())
        assert "Seq Scan" in plan and "Index Scan" not in plan
    duck.dispose()
