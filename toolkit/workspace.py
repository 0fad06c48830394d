"""The shared folder's layout (SPEC §2), its policy, its journal and its lock."""
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from filelock import FileLock

from .journal import Journal
from .policy import Policy, load_policy

FOLDERS = ("inbox", "archive", "rejected", "receipts", "ledger", "reports", "notices", ".tousu",
           ".tousu/staging")
LOCK_TIMEOUT = 120
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


@dataclass
class Workspace:
    root: Path

    @classmethod
    def open(cls, root: Path | None = None) -> "Workspace":
        ws = cls(Path(root or default_root()).resolve())
        for folder in FOLDERS:
            (ws.root / folder).mkdir(parents=True, exist_ok=True)
        return ws

    inbox = _folder("inbox")
    archive = _folder("archive")
    rejected = _folder("rejected")
    receipts = _folder("receipts")
    ledger = _folder("ledger")
    reports = _folder("reports")
    notices = _folder("notices")
    state = _folder(".tousu")
    staging = _folder(".tousu/staging")

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.root / "policy.toml")

    @property
    def journal_path(self) -> Path:
        configured = os.environ.get("TOUSU_JOURNAL") or self.policy.section("journal")["path"]
        return Path(configured) if configured else self.state / "journal.sqlite3"

    @cached_property
    def journal(self) -> Journal:
        return Journal(self.journal_path)

    def lock(self) -> FileLock:
        """The one-writer lock, held around every change to archive/ and the journal."""
        return FileLock(str(self.state / "workspace.lock"), timeout=LOCK_TIMEOUT)

    def case_folder(self, number: str, received_year: int, received_month: int) -> Path:
        return self.archive / f"{received_year:04d}" / f"{received_month:02d}" / number

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()
