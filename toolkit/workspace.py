"""The shared folder's layout (SPEC §2), its policy, its journal and its lock.

One writer: every change to archive/ and the journal happens inside `Workspace.locked()`, which holds
the workspace lock and a writable journal checked against the archive (rebuilt first when it is
missing, damaged or behind). Outside the lock `Workspace.journal` is read-only and re-opened whenever
the journal file was replaced (a `ledger rebuild` by another process), so a long-lived process never
writes to, nor reads from, a journal that is no longer the workspace's."""
import os
import uuid
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import filelock

from .errors import PolicyError, WorkspaceUnavailable
from .files import write_atomically
from .journal import Journal, JournalStore
from .journal_sqlite import SqliteStore
from .paths import workspace_policy
from .policy import Policy, load_policy

ARCHIVE_ID = ".journal-id"
FOLDERS = ("inbox", "archive", "rejected", "receipts", "ledger", "reports", "notices", ".tousu")
LOCK_TIMEOUT = 120
QUIET_WAIT = 2.0                                # seconds of waiting for the lock before anyone is told
IGNORED_PREFIXES = ("~$", ".~lock.")
IGNORED_SUFFIXES = (".tmp", ".crdownload", ".part", ".partial", ".download")


def default_root() -> Path:
    return Path(os.environ.get("TOUSU_WORKSPACE") or "watch")


def is_lock_or_partial(name: str) -> bool:
    """Office lock files (~$x.xlsx, .~lock.x.xlsx#) and half-downloaded or temporary copies."""
    lower = name.lower()
    return name.startswith(IGNORED_PREFIXES) or lower.endswith(IGNORED_SUFFIXES)


def _folder(name: str) -> property:
    return property(lambda self: self.root / name, doc=f"<workspace>/{name}")


def is_server_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


class Workspace:
    def __init__(self, root: Path):
        self.root = root
        self._lock = filelock.FileLock(str(root / ".tousu" / "workspace.lock"), timeout=LOCK_TIMEOUT)
        self._writer: Journal | None = None
        self._reader: Journal | None = None
        self._reader_identity = None
        self.waiting = None                     # called with a Chinese sentence when the lock is busy

    @classmethod
    def open(cls, root: Path | None = None) -> "Workspace":
        ws = cls(Path(root or default_root()).resolve())
        try:
            for folder in FOLDERS:
                (ws.root / folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceUnavailable.from_os(exc, "无法创建工作区目录") from None
        return ws

    inbox = _folder("inbox")
    archive = _folder("archive")
    rejected = _folder("rejected")
    receipts = _folder("receipts")
    ledger = _folder("ledger")
    reports = _folder("reports")
    notices = _folder("notices")
    state = _folder(".tousu")
    claims = _folder(".tousu-claims")           # inbox files taken by the watcher, not yet filed
    staging = _folder("archive/.staging")      # forms written before their journal commit

    @cached_property
    def policy(self) -> Policy:
        return load_policy(workspace_policy(self.root))

    @property
    def office(self) -> str:
        return self.policy.office_code

    @cached_property
    def journal_store(self) -> JournalStore:
        """TOUSU_JOURNAL (a path or a postgresql:// URL), else `[journal] url`, else `[journal] path`,
        else <workspace>/.tousu/journal.sqlite3."""
        configured = os.environ.get("TOUSU_JOURNAL") or self.policy.journal_url or self.policy.journal_path
        if is_server_url(configured):
            from .journal_pg import PgStore  # psycopg is loaded only for a server journal
            scope = self.policy.classification.scope
            if scope == "group" and not (self.office and self.office in self.policy.number_pattern):
                raise PolicyError("规则8/9按集团统计（[classification] scope = \"group\"）时，各单位的编号必须不同："
                                  "请设置 [office] code，并在 [numbering] pattern 中加入 {office}。")
            return PgStore(configured, self.office, scope, self.archive_id())
        return SqliteStore(Path(configured) if configured else self.state / "journal.sqlite3")

    def archive_id(self) -> str:
        """archive/.journal-id: names this archive to a shared journal server (made on first use)."""
        path = self.archive / ARCHIVE_ID
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            write_atomically(path, uuid.uuid4().hex.encode())
            return path.read_text(encoding="utf-8").strip()

    @property
    def journal_path(self):
        """Where the journal is, for people: its file, or its server (no password)."""
        store = self.journal_store
        return store.path if isinstance(store, SqliteStore) else store.location

    @contextmanager
    def holding(self):
        """Hold the one-writer lock, nothing more (`tousu verify` looks without repairing)."""
        try:
            try:
                self._lock.acquire(timeout=QUIET_WAIT)
            except filelock.Timeout:            # someone else is writing: say so, then wait for it
                if self.waiting:
                    self.waiting(f"工作区正被其他程序使用（锁文件 {self._lock.lock_file}），正在等待，"
                                 f"最长 {LOCK_TIMEOUT} 秒……")
                self._lock.acquire()
        except filelock.Timeout:
            raise WorkspaceUnavailable(f"工作区正被其他程序占用（锁文件 {self._lock.lock_file} 超过 "
                                       f"{LOCK_TIMEOUT} 秒未释放），请稍后重试。") from None
        except OSError as exc:
            raise WorkspaceUnavailable.from_os(exc, "无法取得工作区锁") from None
        try:
            yield
        finally:
            self._lock.release()

    @contextmanager
    def locked(self):
        """Hold the one-writer lock; yields a writable journal that agrees with the archive. Re-entrant."""
        if self._writer is not None:
            yield self._writer
            return
        from .rebuild import (
            open_current,  # rebuild needs the workspace; imported when first locked
        )
        with self.holding():
            try:
                self._writer = open_current(self)
                yield self._writer
            finally:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None

    @property
    def journal(self) -> Journal:
        """Inside locked(): the writable journal. Outside: a read-only one, current with the archive."""
        if self._writer is not None:
            return self._writer
        identity = self.journal_store.identity()
        if self._reader is None or identity != self._reader_identity:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            with self.locked():                     # creates, repairs or rebuilds it when needed
                pass
            self._reader = self.journal_store.reader()
            self._reader_identity = self.journal_store.identity()
        return self._reader

    def reopen_writer(self, journal: Journal) -> Journal:
        """After the journal file was replaced under the lock (a rebuild): `journal` is the new one."""
        self._writer.close()
        self._writer = journal
        return journal

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def case_folder(self, number: str, received_year: int, received_month: int) -> Path:
        return self.archive / f"{received_year:04d}" / f"{received_month:02d}" / number

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()
