"""A batch of files: each processed on its own, then the ledgers of the years they touched are
rewritten once (SPEC §16: not once per form). A ledger locked by Excel is remembered and retried
with the next batch."""
from pathlib import Path

from .clock import Clock
from .ledger import all_years, case_years, write_ledger
from .process import process
from .rebuild import rebuild_journal
from .sheets import WorkbookLocked

PENDING = "ledger.pending"


def refresh_ledgers(ws, years, now) -> list[str]:
    """Rewrite the given years' ledgers (plus any left pending); returns messages for the clerk."""
    pending_file = ws.state / PENDING
    pending = {int(y) for y in pending_file.read_text().split()} if pending_file.exists() else set()
    messages, still = [], set()
    with ws.lock():
        for year in sorted(set(years) | pending):
            try:
                write_ledger(ws, year, now)
            except WorkbookLocked as locked:
                messages.append(str(locked))
                still.add(year)
        pending_file.write_text(" ".join(map(str, sorted(still))))
    return messages


def process_batch(ws, paths: list[Path], clock: Clock = Clock(), submitted_by: str | None = None):
    """(receipts, messages) for files processed in place (the CLI's `tousu process`)."""
    receipts = [process(path, ws, clock, submitted_by) for path in paths]
    years = case_years(ws.journal, [r.number for r in receipts if r.status == "accepted"])
    return receipts, refresh_ledgers(ws, years, clock.now())


def rebuild_all(ws, clock: Clock = Clock(), progress=None) -> tuple[int, list[str]]:
    """`tousu ledger rebuild`: the journal from the archive, then every year's ledger."""
    with ws.lock():
        cases = rebuild_journal(ws, progress)
    return cases, refresh_ledgers(ws, all_years(ws.journal), clock.now())
