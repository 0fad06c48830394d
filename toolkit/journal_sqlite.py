"""The default journal backend: one SQLite file per office (WAL, BEGIN IMMEDIATE, PRAGMA user_version).
The watcher, CLI runs and Excel buttons serialise on the database's write lock; a rebuild is built
beside the file and swapped in by a rename, so readers never see a half-built journal."""
import os
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .clock import local_now
from .journal import DAMAGED, SCHEMA, SCHEMA_VERSION, Journal, JournalUnusable

SIDE_FILES = ("-wal", "-shm")


class SqliteJournal(Journal):
    def __init__(self, path: Path, readonly: bool = False, taken=None):
        super().__init__(taken)
        self.path = path
        try:
            if readonly:
                self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60,
                                          isolation_level=None, check_same_thread=False)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA busy_timeout=60000")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            tables = self.db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if readonly:
                if version != SCHEMA_VERSION:
                    raise JournalUnusable(f"日志 {path} 的格式版本为 {version}，应为 {SCHEMA_VERSION}")
                return
            if tables and version != SCHEMA_VERSION:
                raise JournalUnusable(f"日志 {path} 的格式版本为 {version}，应为 {SCHEMA_VERSION}")
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: in WAL mode a power cut may drop the last commits, never corrupt the file. The journal
            # is derived: the archive's counters are fsynced before every COMMIT, so a journal that lost a
            # commit is behind them and rebuilt from the archive on the next lock (rebuild.open_current).
            self.db.execute("PRAGMA synchronous=NORMAL")
            if tables:
                return
            with self.transaction():
                for statement in (s for s in SCHEMA.split(";") if s.strip()):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            self.close()
            if getattr(exc, "sqlite_errorcode", None) in DAMAGED:
                raise JournalUnusable(f"日志 {path} 已损坏或不是数据库（{exc}）") from None
            raise

    def _run(self, sql, params=()):
        return self.db.execute(sql, params)

    def close(self) -> None:
        if getattr(self, "db", None) is not None:
            self.db.close()
            self.db = None

    @contextmanager
    def transaction(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def change_mark(self):
        """SQLite's own counter of commits by other connections (PRAGMA data_version)."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def checkpoint(self) -> None:
        """Fold the WAL into the database file (before the file is moved into place)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _with_side_files(path: Path) -> list[Path]:
    return [path, *(path.with_name(path.name + suffix) for suffix in SIDE_FILES)]


class SqliteStore:
    def __init__(self, path: Path):
        self.path = path
        self.location = str(path)

    def open(self, taken=None) -> SqliteJournal:
        return SqliteJournal(self.path, taken=taken)

    def reader(self) -> SqliteJournal:
        return SqliteJournal(self.path, readonly=True)

    def identity(self):
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def fresh(self) -> SqliteJournal:
        for leftover in _with_side_files(self.path):
            leftover.unlink(missing_ok=True)
        return SqliteJournal(self.path)

    def replace(self, build):
        """Build beside the file, then swap it in. Only while no writable connection is open."""
        beside = SqliteStore(self.path.with_name(self.path.name + ".rebuild"))
        try:
            result = build(beside)
        except BaseException:
            for leftover in _with_side_files(beside.path):
                leftover.unlink(missing_ok=True)
            raise
        for stale in _with_side_files(self.path)[1:]:
            stale.unlink(missing_ok=True)
        os.replace(beside.path, self.path)
        return result

    def set_aside(self) -> None:
        stamp = local_now().strftime("%Y%m%d%H%M%S")
        for suffix in ("", *SIDE_FILES):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                os.replace(source, self.path.with_name(f"{self.path.name}.damaged-{stamp}{suffix}"))

    @contextmanager
    def scratch(self):
        with tempfile.TemporaryDirectory() as temp:
            yield SqliteStore(Path(temp) / "verify.sqlite3")

    def leftovers(self) -> list:
        return list(self.path.parent.glob(f"{self.path.name}.rebuild*"))
