"""The journal: SQLite (WAL) under <ws>/.tousu/, derived state that a rebuild regenerates from
archive/. Every write goes through Journal.transaction(), which opens with BEGIN IMMEDIATE so
the watcher, CLI runs and Excel buttons serialise on the database's write lock."""
import json
import sqlite3
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from .numbering import NumberPattern

SCHEMA = """
CREATE TABLE IF NOT EXISTS sequences (
    period TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    number TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    customer_key TEXT NOT NULL,
    target_key TEXT NOT NULL,
    facts TEXT NOT NULL,                -- JSON: the latest intake's values
    auto TEXT NOT NULL DEFAULT '{}',    -- JSON: automatic major reasons (rules 8, 9)
    state TEXT NOT NULL DEFAULT '{}'    -- JSON: cases.CaseState derived from all the case's forms
);
CREATE INDEX IF NOT EXISTS cases_customer ON cases (customer_key);
CREATE INDEX IF NOT EXISTS cases_target ON cases (target_key);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    original_name TEXT NOT NULL,
    arrived_at TEXT NOT NULL,
    kind TEXT,
    number TEXT,
    version INTEGER,
    path TEXT,                          -- archive path relative to the workspace
    status TEXT NOT NULL,               -- staged | archived | refused
    submitted_by TEXT NOT NULL,
    problems TEXT NOT NULL DEFAULT '[]',
    facts TEXT NOT NULL DEFAULT '{}'    -- JSON: the form's values
);
CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256);
CREATE INDEX IF NOT EXISTS files_number ON files (number);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    number TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
"""
KEPT = ("staged", "archived")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Journal:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=60000")
        with self.transaction():
            for statement in _statements():
                self.db.execute(statement)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------ numbers
    def issue_number(self, pattern: NumberPattern, moment: datetime) -> str:
        """Next unused number of the moment's period. Call inside transaction()."""
        period = pattern.period(moment)
        row = self.db.execute("SELECT last FROM sequences WHERE period = ?", (period,)).fetchone()
        seq = (row["last"] if row else 0) + 1
        while self.case(number := pattern.format(moment, seq)) is not None:
            seq += 1
        self._advance(period, seq)
        return number

    def reserve_number(self, pattern: NumberPattern, number: str) -> None:
        """Keep a number written on a form; later numbers of its period go past it."""
        period, seq = pattern.split(number)
        self._advance(period, seq)

    def _advance(self, period: str, seq: int) -> None:
        self.db.execute("INSERT INTO sequences (period, last) VALUES (?, ?) ON CONFLICT (period) "
                        "DO UPDATE SET last = max(last, excluded.last)", (period, seq))

    # ------------------------------------------------------------------ cases and files
    @staticmethod
    def _case(row) -> dict:
        return {**dict(row), **{k: json.loads(row[k]) for k in ("facts", "auto", "state")}}

    def case(self, number: str):
        row = self.db.execute("SELECT * FROM cases WHERE number = ?", (number,)).fetchone()
        return None if row is None else self._case(row)

    def peers(self, column: str, value: str) -> list:
        """What classification needs of the cases sharing a customer or a target: number,
        received_at, customer_key and the automatic reasons."""
        assert column in ("customer_key", "target_key")
        rows = self.db.execute(f"SELECT number, received_at, customer_key, auto FROM cases WHERE {column} = ? "
                               f"ORDER BY received_at, number", (value,))
        return [{**dict(row), "auto": json.loads(row["auto"])} for row in rows]

    def distinct_keys(self, column: str) -> list:
        assert column in ("customer_key", "target_key")
        return [row[0] for row in self.db.execute(f"SELECT DISTINCT {column} FROM cases WHERE {column} != ''")]

    def put_case(self, number: str, received_at: datetime, customer_key: str, target_key: str,
                 facts: dict) -> None:
        self.db.execute("INSERT INTO cases (number, received_at, customer_key, target_key, facts) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (number) DO UPDATE SET received_at = excluded.received_at, "
                        "customer_key = excluded.customer_key, target_key = excluded.target_key, "
                        "facts = excluded.facts",
                        (number, _iso(received_at), customer_key, target_key, json.dumps(facts, ensure_ascii=False)))

    def cases_received(self, start: datetime, end: datetime) -> list:
        """Cases whose 受理时间 falls in [start, end), oldest first."""
        rows = self.db.execute("SELECT * FROM cases WHERE received_at >= ? AND received_at < ? "
                               "ORDER BY received_at, number", (_iso(start), _iso(end)))
        return [self._case(row) for row in rows]

    def latest_facts(self, number: str, kind: str) -> dict:
        row = self.db.execute(f"SELECT facts FROM files WHERE number = ? AND kind = ? AND status IN {KEPT} "
                              f"ORDER BY id DESC LIMIT 1", (number, kind)).fetchone()
        return json.loads(row["facts"]) if row else {}

    def set_auto(self, number: str, auto: dict) -> None:
        self.db.execute("UPDATE cases SET auto = ? WHERE number = ?", (json.dumps(auto, ensure_ascii=False), number))

    def set_state(self, number: str, state: dict) -> None:
        self.db.execute("UPDATE cases SET state = ? WHERE number = ?", (json.dumps(state, ensure_ascii=False), number))

    def case_files(self, number: str) -> list:
        """The case's kept forms in arrival order: [{kind, version, facts, arrived_at}]."""
        rows = self.db.execute(f"SELECT kind, version, facts, arrived_at FROM files WHERE number = ? "
                               f"AND status IN {KEPT} ORDER BY id", (number,))
        return [{**dict(row), "facts": json.loads(row["facts"])} for row in rows]

    def kept_file_by_hash(self, sha256: str):
        return self.db.execute(f"SELECT * FROM files WHERE sha256 = ? AND status IN {KEPT} "
                               "ORDER BY id LIMIT 1", (sha256,)).fetchone()

    def next_version(self, number: str, kind: str) -> int:
        row = self.db.execute(f"SELECT max(version) AS v FROM files WHERE number = ? AND kind = ? "
                              f"AND status IN {KEPT}", (number, kind)).fetchone()
        return (row["v"] or 0) + 1

    def add_file(self, *, sha256, original_name, arrived_at, kind, number, version, path, status,
                 submitted_by, problems, facts=None) -> int:
        cursor = self.db.execute(
            "INSERT INTO files (sha256, original_name, arrived_at, kind, number, version, path, status, "
            "submitted_by, problems, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sha256, original_name, _iso(arrived_at), kind, number, version, path, status, submitted_by,
             json.dumps([p.to_json() for p in problems], ensure_ascii=False),
             json.dumps(facts or {}, ensure_ascii=False)))
        return cursor.lastrowid

    def staged_files(self) -> list:
        return self.db.execute("SELECT * FROM files WHERE status = 'staged' ORDER BY id").fetchall()

    def mark_archived(self, file_id: int) -> None:
        self.db.execute("UPDATE files SET status = 'archived' WHERE id = ?", (file_id,))

    def drop_file(self, file_id: int) -> None:
        self.db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def log(self, at: datetime, kind: str, number: str | None = None, **detail) -> None:
        self.db.execute("INSERT INTO events (at, number, kind, detail) VALUES (?, ?, ?, ?)",
                        (_iso(at), number, kind, json.dumps(detail, ensure_ascii=False)))


def _statements():
    return [s for s in SCHEMA.split(";") if s.strip()]
