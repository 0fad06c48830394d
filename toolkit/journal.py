"""The journal: derived state that a rebuild regenerates from archive/, behind one interface with two
backends: SQLite in <workspace>/.tousu (the default; one office, journal_sqlite) and PostgreSQL for a
group of offices on one server (journal_pg). Every SQL statement the journal runs is written once, here,
in the SQL both engines speak (`?` and `:name` parameters, ON CONFLICT, RETURNING); what differs —
connecting, transactions, the DDL of the ids, three SQL fragments — lives in the backend module.

Every write goes through Journal.transaction(); a writable journal is only open while the workspace
lock is held (see workspace.Workspace.locked); readers open it read-only. The schema has a version: a
journal of another version is rebuilt, never half-read. `JournalStore` is where a workspace's journal
lives: it opens readers and writers, builds a fresh one for a rebuild and swaps it in."""
import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from .counters import Counters
from .errors import ToolkitError
from .numbering import NumberPattern

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
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
CREATE INDEX IF NOT EXISTS cases_received ON cases (received_at);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    submission TEXT NOT NULL UNIQUE,    -- one row per file handed in, whatever happens to it
    ord INTEGER NOT NULL,               -- archive-wide arrival order (survives rebuilds)
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
CREATE INDEX IF NOT EXISTS files_number ON files (number, ord);
CREATE INDEX IF NOT EXISTS files_arrived ON files (arrived_at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    number TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
"""
KEPT = ("staged", "archived")
TABLES = ("meta", "sequences", "cases", "files", "events")
DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class JournalUnusable(ToolkitError):
    """The journal is damaged, of another schema version, or not a database at all."""


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


class Journal:
    """The one protocol. A backend provides _run, transaction and close, and its spelling of the three
    fragments below (GREATEST, LEAST, FOR_UPDATE, _json_text)."""
    GREATEST = "max"                        # the larger of two values (SQLite's two-argument max)
    LEAST = "min"                           # the smallest of several values
    FOR_UPDATE = ""                         # row lock on a counter; SQLite's BEGIN IMMEDIATE locks it all

    def __init__(self, taken=None):
        """`taken(number, moment)`: whether the archive already holds that number (a case folder the
        journal does not know); such a number is never issued."""
        self.taken = taken or (lambda number, moment: False)

    # ------------------------------------------------------------------ backend hooks
    def _run(self, sql: str, params: Any = ()):
        """Execute one statement; returns a cursor whose rows index by name and by position."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def checkpoint(self) -> None:
        """Make what was committed durable in the journal's own file (SQLite's WAL); else nothing."""

    @staticmethod
    def _json_text(column: str, *keys: str) -> str:
        """SQL for the text at `keys` inside the JSON text of `column`."""
        return f"json_extract({column}, '$.{'.'.join(keys)}')"

    def clear(self) -> None:
        """Delete every row of this journal (an office's rows on a shared server). Inside transaction()."""
        for table in TABLES:
            self._run(f"DELETE FROM {table}")

    # ------------------------------------------------------------------ counters
    def counters(self) -> Counters:
        """The journal's view of the archive counters: arrival order and every sequence."""
        row = self._run("SELECT value FROM meta WHERE key = 'order'").fetchone()
        sequences = {r["period"]: r["last"] for r in self._run("SELECT period, last FROM sequences")}
        return Counters(int(row["value"]) if row else 0, sequences)

    def raise_counters(self, counters: Counters) -> None:
        """Move the journal's counters up to `counters` (never down). Call inside transaction()."""
        self._run("INSERT INTO meta (key, value) VALUES ('order', ?) ON CONFLICT (key) DO UPDATE SET value = "
                  f"{self.GREATEST}(CAST(meta.value AS INTEGER), CAST(excluded.value AS INTEGER))",
                  (str(counters.order),))
        for period, seq in counters.sequences.items():
            self._advance(period, seq)

    def next_order(self) -> int:
        """The next arrival order. Call inside transaction()."""
        order = self.counters().order + 1
        self._run("INSERT INTO meta (key, value) VALUES ('order', ?) ON CONFLICT (key) DO UPDATE SET "
                  "value = excluded.value", (str(order),))
        return order

    def issue_number(self, pattern: NumberPattern, moment: datetime) -> str:
        """Next unused number of the moment's period. Call inside transaction()."""
        period = pattern.period(moment)
        row = self._run(f"SELECT last FROM sequences WHERE period = ?{self.FOR_UPDATE}", (period,)).fetchone()
        seq = (row["last"] if row else 0) + 1
        while self.case(number := pattern.format(moment, seq)) is not None or self.taken(number, moment):
            seq += 1
        self._advance(period, seq)
        return number

    def reserve_number(self, pattern: NumberPattern, number: str) -> None:
        """Keep a number found in the archive; later numbers of its period go past it."""
        period, seq = pattern.split(number)
        self._advance(period, seq)

    def _advance(self, period: str, seq: int) -> None:
        self._run("INSERT INTO sequences (period, last) VALUES (?, ?) ON CONFLICT (period) "
                  f"DO UPDATE SET last = {self.GREATEST}(sequences.last, excluded.last)", (period, seq))

    # ------------------------------------------------------------------ cases
    @staticmethod
    def _case(row) -> dict:
        return {**dict(row), **{k: json.loads(row[k]) for k in ("facts", "auto", "state")}}

    def case(self, number: str):
        row = self._run("SELECT * FROM cases WHERE number = ?", (number,)).fetchone()
        return None if row is None else self._case(row)

    def case_numbers(self) -> list[str]:
        return [row[0] for row in self._run("SELECT number FROM cases ORDER BY received_at, number")]

    def peers(self, column: str, value: str) -> list:
        """What classification needs of the cases sharing a customer or a target: number,
        received_at, customer_key and the automatic reasons."""
        assert column in ("customer_key", "target_key")
        rows = self._run(f"SELECT number, received_at, customer_key, auto FROM cases WHERE {column} = ? "
                         f"ORDER BY received_at, number", (value,))
        return [{**dict(row), "auto": json.loads(row["auto"])} for row in rows]

    def distinct_keys(self, column: str) -> list:
        assert column in ("customer_key", "target_key")
        return [row[0] for row in self._run(f"SELECT DISTINCT {column} FROM cases WHERE {column} != ''")]

    def put_case(self, number: str, received_at: datetime, customer_key: str, target_key: str,
                 facts: dict) -> None:
        self._run("INSERT INTO cases (number, received_at, customer_key, target_key, facts) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (number) DO UPDATE SET received_at = excluded.received_at, "
                  "customer_key = excluded.customer_key, target_key = excluded.target_key, "
                  "facts = excluded.facts",
                  (number, _iso(received_at), customer_key, target_key, _json(facts)))

    def cases_received(self, start: datetime, end: datetime) -> list:
        """Cases whose 受理时间 falls in [start, end), oldest first."""
        rows = self._run("SELECT * FROM cases WHERE received_at >= ? AND received_at < ? "
                         "ORDER BY received_at, number", (_iso(start), _iso(end)))
        return [self._case(row) for row in rows]

    def years(self) -> list[int]:
        rows = self._run("SELECT DISTINCT substr(received_at, 1, 4) FROM cases ORDER BY 1")
        return [int(row[0]) for row in rows]

    def set_auto(self, number: str, auto: dict) -> None:
        self._run("UPDATE cases SET auto = ? WHERE number = ?", (_json(auto), number))

    def set_state(self, number: str, state: dict) -> None:
        self._run("UPDATE cases SET state = ? WHERE number = ?", (_json(state), number))

    # ------------------------------------------------------------------ files
    def latest_facts(self, number: str, kind: str) -> dict:
        row = self._run(f"SELECT facts FROM files WHERE number = ? AND kind = ? AND status IN {KEPT} "
                        f"ORDER BY ord DESC LIMIT 1", (number, kind)).fetchone()
        return json.loads(row["facts"]) if row else {}

    def case_files(self, number: str) -> list:
        """The case's kept forms in arrival order: [{kind, version, facts, arrived_at}]."""
        rows = self._run(f"SELECT kind, version, facts, arrived_at FROM files WHERE number = ? "
                         f"AND status IN {KEPT} ORDER BY ord", (number,))
        return [{**dict(row), "facts": json.loads(row["facts"])} for row in rows]

    def kept_file_by_hash(self, sha256: str):
        return self._run(f"SELECT * FROM files WHERE sha256 = ? AND status IN {KEPT} "
                         "ORDER BY ord LIMIT 1", (sha256,)).fetchone()

    def file_by_submission(self, submission: str):
        return self._run("SELECT * FROM files WHERE submission = ?", (submission,)).fetchone()

    def next_version(self, number: str, kind: str) -> int:
        row = self._run(f"SELECT max(version) AS v FROM files WHERE number = ? AND kind = ? "
                        f"AND status IN {KEPT}", (number, kind)).fetchone()
        return (row["v"] or 0) + 1

    def add_file(self, provenance, path: str, status: str) -> int:
        """Record an accepted form from its provenance (see provenance.Provenance)."""
        p = provenance
        cursor = self._run(
            "INSERT INTO files (submission, ord, sha256, original_name, arrived_at, kind, number, version, path, "
            "status, submitted_by, problems, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (p.submission, p.order, p.sha256, p.original_name, _iso(p.arrived_at), p.form, p.number, p.version,
             path, status, p.submitted_by, _json([x.to_json() for x in p.problems]), _json(p.fields)))
        return cursor.fetchone()[0]

    def add_refusal(self, refusal) -> bool:
        """Record a refused form once per submission; False when it was already recorded."""
        r = refusal
        cursor = self._run(
            "INSERT INTO files (submission, ord, sha256, original_name, arrived_at, kind, status, "
            "submitted_by, problems) VALUES (?, ?, ?, ?, ?, ?, 'refused', ?, ?) ON CONFLICT (submission) DO NOTHING",
            (r.submission, r.order, r.sha256, r.original_name, _iso(r.arrived_at), r.form, r.submitted_by,
             _json([x.to_json() for x in r.problems])))
        return cursor.rowcount == 1

    def staged_files(self) -> list:
        return self._run("SELECT * FROM files WHERE status = 'staged' ORDER BY ord").fetchall()

    def archived_paths(self) -> set[str]:
        return {row[0] for row in self._run("SELECT path FROM files WHERE status = 'archived'")}

    def mark_archived(self, file_id: int) -> None:
        self._run("UPDATE files SET status = 'archived' WHERE id = ?", (file_id,))

    def drop_file(self, file_id: int) -> None:
        self._run("DELETE FROM files WHERE id = ?", (file_id,))

    def files_counted(self, day: str) -> dict:
        """{status: count} of the files that arrived on `day` (YYYY-MM-DD)."""
        return {row["status"]: row["n"] for row in self._run(
            "SELECT status, count(*) AS n FROM files WHERE substr(arrived_at, 1, 10) = ? GROUP BY status", (day,))}

    def forms_received(self, start: datetime, end: datetime) -> list:
        """[{status, problems}] of the forms that arrived in [start, end), accepted or refused."""
        return [{"status": row["status"], "problems": json.loads(row["problems"])} for row in self._run(
            "SELECT status, problems FROM files WHERE arrived_at >= ? AND arrived_at < ? "
            "AND status IN ('archived', 'refused')", (_iso(start), _iso(end)))]

    def recent_refusals(self, limit: int) -> list:
        return [{"file": row["original_name"], "at": row["arrived_at"],
                 "problem": (json.loads(row["problems"]) or [{"message": ""}])[0]["message"]}
                for row in self._run("SELECT original_name, arrived_at, problems FROM files "
                                     "WHERE status = 'refused' ORDER BY ord DESC LIMIT ?", (limit,))]

    def snapshot(self) -> dict:
        """Everything derived from the archive, comparable between two journals (no row ids)."""
        cases = {row["number"]: tuple(row) for row in self._run(
            "SELECT number, received_at, customer_key, target_key, facts, auto, state FROM cases")}
        files = {row["submission"]: tuple(row) for row in self._run(
            "SELECT submission, ord, sha256, original_name, arrived_at, kind, number, version, path, status, "
            "submitted_by, problems, facts FROM files")}
        return {"cases": cases, "files": files, "counters": self.counters().to_json()}

    # ------------------------------------------------------------------ events
    def log(self, at: datetime, kind: str, number: str | None = None, **detail) -> None:
        self._run("INSERT INTO events (at, number, kind, detail) VALUES (?, ?, ?, ?)",
                  (_iso(at), number, kind, _json(detail)))

    def events(self, kinds: tuple, limit: int) -> list:
        marks = ",".join("?" * len(kinds))
        return [{**dict(row), "detail": json.loads(row["detail"])} for row in self._run(
            f"SELECT at, number, kind, detail FROM events WHERE kind IN ({marks}) ORDER BY id DESC LIMIT ?",
            (*kinds, limit))]

    def cases_due_between(self, stages: tuple, start: datetime, end: datetime) -> list:
        """Cases received before `start` with a deadline of one of `stages` in [start, end), oldest
        first: the only earlier cases a month's late lines can concern (scoring.score_month)."""
        assert all(stage.isidentifier() for stage in stages)
        due = " OR ".join(f"({self._json_text('state', 'deadlines', stage)} >= :start "
                          f"AND {self._json_text('state', 'deadlines', stage)} < :end)" for stage in stages)
        rows = self._run(f"SELECT * FROM cases WHERE received_at < :start AND ({due}) "
                         f"ORDER BY received_at, number", {"start": _iso(start), "end": _iso(end)})
        return [self._case(row) for row in rows]


    # ------------------------------------------------------------------ what the web view reads
    def change_mark(self) -> Any:
        """Changes whenever anyone committed a change (what a reader's kept figures depend on)."""
        return tuple(self._run("SELECT (SELECT max(id) FROM files), (SELECT max(id) FROM events), "
                               "(SELECT count(*) FROM cases)").fetchone())

    def _next_due(self, stages: tuple) -> str:
        """SQL: the nearest deadline of `stages` not met yet ('9999' when none is open)."""
        assert all(stage.isidentifier() for stage in stages)
        open_due = [f"coalesce(CASE WHEN {self._json_text('state', 'met', s)} IS NULL "
                    f"THEN {self._json_text('state', 'deadlines', s)} END, '9999')" for s in stages]
        return f"{self.LEAST}({', '.join([*open_due, chr(39) + '9999' + chr(39)])})"

    def cases_with_open_stage(self, stages: tuple, start: datetime, end: datetime) -> list:
        """cases_received(start, end) narrowed to the cases with one of `stages` still open."""
        rows = self._run(f"SELECT * FROM cases WHERE received_at >= ? AND received_at < ? "
                         f"AND {self._next_due(stages)} < '9999' ORDER BY received_at, number",
                         (_iso(start), _iso(end)))
        return [self._case(row) for row in rows]

    def case_listing(self, stages: tuple) -> list[dict]:
        """Every case as a list shows it, the nearest open deadline of `stages` first ('9999': none)."""
        def text(*keys: str) -> str:
            return self._json_text(*keys)
        rows = self._run(
            f"SELECT number, received_at, {text('facts', 'customer_name')} AS customer_name, "
            f"{text('facts', 'phone')} AS phone, {text('facts', 'channel')} AS channel, "
            f"{text('state', 'status')} AS status, {text('state', 'severity')} AS severity, "
            f"{text('state', 'suspected_major')} AS suspected, {text('state', 'unit')} AS unit, "
            f"{self._next_due(stages)} AS next_due FROM cases ORDER BY next_due, number")
        return [{**dict(row), "suspected": row["suspected"] in (1, "1", "true", True)} for row in rows]

    def case_forms(self, number: str) -> list[dict]:
        """The case's kept forms in arrival order, each with its provenance."""
        marks = ",".join("?" * len(KEPT))
        rows = self._run(f"SELECT kind, version, path, original_name, arrived_at, submitted_by, problems, facts "
                         f"FROM files WHERE number = ? AND status IN ({marks}) ORDER BY ord", (number, *KEPT))
        return [{**dict(row), "problems": json.loads(row["problems"]), "facts": json.loads(row["facts"])}
                for row in rows]

    def received_moments(self) -> dict[str, str]:
        return {row["number"]: row["received_at"] for row in self._run("SELECT number, received_at FROM cases")}


class JournalStore(Protocol):
    """Where a workspace's journal lives (journal_sqlite.SqliteStore, journal_pg.PgStore)."""
    location: str                           # shown to people: a path, or the server without its password

    def open(self, taken=None) -> Journal:
        """The writable journal, created when missing. Only with the workspace lock held."""

    def reader(self) -> Journal:
        """A read-only journal."""

    def identity(self) -> Any:
        """Changes when the journal was replaced (a rebuild by another process)."""

    def fresh(self) -> Journal:
        """A writable journal to fill from the archive; its transaction starts with Journal.clear()."""

    def replace(self, build: Callable[["JournalStore"], Any]) -> Any:
        """`build(target)` fills a fresh journal at `target`, which then becomes this store's journal."""

    def set_aside(self) -> None:
        """Keep an unusable journal for inspection, out of the way."""

    def scratch(self) -> AbstractContextManager["JournalStore"]:
        """A journal for `tousu verify` to rebuild into and compare with; never this store's journal."""

    def leftovers(self) -> list:
        """Half-written rebuilds (paths) a crash left."""
