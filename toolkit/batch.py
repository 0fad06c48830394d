"""A batch of files: each processed on its own, then the ledgers of the years they touched are
updated once (SPEC §16: not once per form; ledger.write_ledger renders only the months that changed).
A year is marked pending (.tousu/ledger.pending) as soon as a form of it is accepted, before its ledger
is rewritten, so a crash or a failed write is repaired by the next batch or the next start; a year whose
ledger is missing is written too, and partial files a crash left in ledger/ are removed. A ledger locked
by Excel stays pending and is retried later."""
import time
from pathlib import Path

from .clock import Clock
from .errors import WorkspaceUnavailable
from .files import write_atomically
from .ledger import case_years, due_years, ledger_path, write_ledger
from .process import process
from .rebuild import rebuild_journal
from .sheets import WorkbookLocked

PENDING = "ledger.pending"
HOLD_SECONDS = 0.5      # how long a batch keeps the workspace lock before letting another writer in


def pending_years(ws) -> set[int]:
    try:
        return {int(y) for y in (ws.state / PENDING).read_text().split()}
    except (OSError, ValueError):
        return set()


def _write_pending(ws, years) -> None:
    write_atomically(ws.state / PENDING, " ".join(map(str, sorted(years))).encode("ascii"))


def mark_pending(ws, years) -> None:
    """Record that these years' ledgers must be rewritten (before anything else can fail)."""
    todo = pending_years(ws)
    if not set(years) <= todo:
        _write_pending(ws, todo | set(years))


def stale_years(ws) -> set[int]:
    """Years pending a rewrite, and years of the journal that have no ledger file."""
    return pending_years(ws) | {y for y in ws.journal.years() if not ledger_path(ws, y).exists()}


def _remove_partial_ledgers(ws) -> None:
    for leftover in ws.ledger.glob(".*.writing*"):
        leftover.unlink(missing_ok=True)


def _todo(ws, now) -> set[int]:
    """Stale years, and years whose ledger shows a deadline as open that has passed since."""
    return stale_years(ws) | due_years(ws, now)


def refresh_ledgers(ws, years, now) -> list[str]:
    """Update the given years' ledgers plus every stale one; returns messages for the clerk."""
    mark_pending(ws, years)
    if not _todo(ws, now):
        return []
    messages, still = [], set()
    with ws.locked():
        _remove_partial_ledgers(ws)
        todo = _todo(ws, now)
        mark_pending(ws, todo)
        for year in sorted(todo):
            try:
                write_ledger(ws, year, now)
            except WorkbookLocked as locked:
                messages.append(str(locked))
                still.add(year)
            except OSError as exc:                 # the ledger folder cannot be written: the forms are filed
                messages.append(str(WorkspaceUnavailable.from_os(exc, f"{year} 年台帐暂时无法更新，下次自动重试")))
                still.add(year)
        _write_pending(ws, still)
    return messages


def process_batch(ws, paths: list[Path], clock: Clock = Clock(), submitted_by: str | None = None):
    """(receipts, messages) for files processed in place (the CLI's `tousu process`). The workspace lock
    is taken once for up to HOLD_SECONDS of files rather than once per file (the journal is opened and
    checked against the archive once per turn), then let go so that the watcher gets its turn."""
    receipts: list = []
    while len(receipts) < len(paths):
        with ws.locked():
            turn = time.monotonic()
            for path in paths[len(receipts):]:
                receipt = process(path, ws, clock, submitted_by)
                receipts.append(receipt)
                if receipt.status == "accepted":
                    mark_pending(ws, case_years(ws.journal, [receipt.number]))
                if time.monotonic() - turn > HOLD_SECONDS:
                    break
    return receipts, refresh_ledgers(ws, [], clock.now())


def rebuild_all(ws, clock: Clock = Clock(), reread: bool = False):
    """`tousu ledger rebuild`: the journal from the archive (every form read again with `reread`), then
    every year's ledger."""
    result = rebuild_journal(ws, reread)
    mark_pending(ws, ws.journal.years())
    return result, refresh_ledgers(ws, [], clock.now())
