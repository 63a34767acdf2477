"""``spasm_cv.load_db``: the monitor's store as DataFrames (read-only); ``export --db``."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import date, datetime, timezone

import pandas as pd
import pytest
from helpers_monitor import write_session

import spasm_cv
from spasm_cv.cli import main
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS, Event
from spasm_cv.live.schema import SCHEMA_VERSION
from spasm_cv.live.store import Batch, SessionInfo, Store

DAY1 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _event(onset, side="right", trial_type="spasm", regions="eye", brow=False) -> Event:
    kind = "twitch" if trial_type == "spasm" else None
    side = side if trial_type == "spasm" else "both"
    return Event(onset, 0.3, trial_type, side, kind, regions, 1, 0.6, 0.2,
                 brow if trial_type == "spasm" else None, None, 0.7)  # fmt: skip


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "monitor.sqlite"
    events = [_event(5.0), _event(20.0, "left", brow=True), _event(30.0, "both", "blink"),
              _event(40.0, regions="mouth")]  # fmt: skip
    write_session(path, events, DAY1, seconds=90)
    write_session(path, [_event(10.0)], DAY2, seconds=30, source_kind="camera",
                  source="camera 0")  # fmt: skip
    return path


def test_load_db_gives_typed_dataframes(db):
    data = spasm_cv.load_db(db)
    assert data.schema_version == SCHEMA_VERSION
    s = data.sessions
    assert s["session_id"].tolist() == [1, 2]
    assert str(s["started_at"].dtype) == "datetime64[ns, UTC]"
    assert s["started_at"].tolist() == [pd.Timestamp(DAY1), pd.Timestamp(DAY2)]
    assert str(s["mirrored"].dtype) == "boolean" and not s["mirrored"].any()
    assert s["settings"].iloc[0] == {"params": {}}
    assert str(s["fps"].dtype) == "float64" and str(s["frames"].dtype) == "Int64"

    ev = data.events
    assert list(ev.columns[: len(EVENT_FIELDS) + 1]) == ["session_id", *EVENT_FIELDS]
    assert len(ev) == 5
    assert str(ev["brow_raised"].dtype) == "boolean"
    assert ev["brow_raised"].tolist()[:4] == [False, True, pd.NA, False]
    assert str(ev["onset_at"].dtype) == "datetime64[ns, UTC]"
    assert ev["onset_at"].iloc[0] == pd.Timestamp(DAY1) + pd.Timedelta(seconds=5)
    # episodes: the one-sided eye episodes (not blinks, not the mouth-only event)
    assert data.episodes[["session_id", "onset"]].values.tolist() == [[1, 5.0], [1, 20.0],
                                                                      [2, 10.0]]  # fmt: skip
    m = data.minutes
    assert str(m["minute_start"].dtype) == "datetime64[ns, UTC]"
    assert m.groupby("session_id")["observed_s"].sum().round(3).tolist() == [90.0, 30.0]
    assert m["episodes"].sum() == 3
    assert data.gaps.empty and "reason" in data.gaps.columns
    assert "2 sessions" in repr(data)


def test_since_and_until_select_sessions(db):
    assert spasm_cv.load_db(db, since=date(2026, 3, 2)).sessions["session_id"].tolist() == [2]
    assert spasm_cv.load_db(db, until="2026-03-01").sessions["session_id"].tolist() == [1]
    one = spasm_cv.load_db(db, since=DAY1, until=DAY2)
    assert one.sessions["session_id"].tolist() == [1]
    assert set(one.events["session_id"]) == {1} and set(one.minutes["session_id"]) == {1}
    none = spasm_cv.load_db(db, since="2027-01-01")
    assert none.sessions.empty and none.events.empty and list(none.events.columns)
    with pytest.raises(SpasmCvError, match="not an ISO date"):
        spasm_cv.load_db(db, since="yesterday")


def test_load_db_opens_read_only_while_the_monitor_writes(db, tmp_path):
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    spasm_cv.load_db(db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest  # nothing written
    with Store(db) as store:  # a running session, mid-write
        info = SessionInfo(time.time(), "camera 0", "camera", 30.0, None, None, False, {},
                           "t", "m", "s")  # fmt: skip
        sid = store.begin_session(info)
        store.write(sid, time.time(), Batch.of(events=[_event(1.0)]))
        data = spasm_cv.load_db(db)
        assert data.sessions["ended_at"].isna().tolist() == [False, False, True]
        store.write(sid, time.time(), Batch.of(events=[_event(2.0)]))  # the writer goes on
    assert len(spasm_cv.load_db(db).events) == 7


def test_load_db_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(SpasmCvError, match="no monitor database"):
        spasm_cv.load_db(tmp_path / "nope.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(SpasmCvError, match="cannot read database|not a spasm-cv"):
        spasm_cv.load_db(tmp_path / "junk.sqlite")
    import sqlite3

    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(SpasmCvError, match="not a spasm-cv monitor database"):
        spasm_cv.load_db(other)


def test_export_db_as_csv_and_json(db, tmp_path, capsys):
    out = tmp_path / "csv"
    assert main(["export", "--db", str(db), "--format", "csv", "--out", str(out)]) == 0
    events = pd.read_csv(out / "events.csv", dtype={"counted": "boolean"})
    assert events.groupby("recording").size().tolist() == [4, 1]
    assert events["counted"].sum() == 3
    recordings = pd.read_csv(out / "recordings.csv")
    assert recordings["source"].tolist() == ["monitor", "monitor"]
    assert recordings["observed_s"].round(3).tolist() == [90.0, 30.0]

    out = tmp_path / "json"
    assert main(["export", "--db", str(db), "--format", "json", "--out", str(out),
                 "--from", "2026-03-02"]) == 0  # fmt: skip
    (path,) = out.iterdir()
    assert path.name == "monitor-session-2.json"
    doc = json.loads(path.read_text())
    assert doc["summary"]["monitor"]["session_id"] == 2 and len(doc["events"]) == 1

    capsys.readouterr()
    assert main(["export", "--db", str(db), "--format", "elan", "--out", str(out)]) == 2
    assert "monitor sessions have none" in capsys.readouterr().err
    assert main(["export", "--format", "csv", "--out", str(out)]) == 2
    assert "nothing to export" in capsys.readouterr().err
