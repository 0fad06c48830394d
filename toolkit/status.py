"""`tousu status`: what waits in the inbox (and what was left in place, and why), files in sub-folders
that are not processed, claims a crash left, ledgers waiting to be rewritten, today's counts and the last
refusals and watcher errors — all from the journal and the workspace, never from log text."""
from datetime import datetime

from .batch import stale_years
from .files import printable
from .inbox import in_subfolders, leftover_claims, pending, read_held
from .ledger import behind_years


def workspace_status(ws, now: datetime, recent: int = 5) -> dict:
    journal = ws.journal
    counts = journal.files_counted(now.date().isoformat())
    return {"pending": [printable(p.name) for p in pending(ws)],
            "held": [{"file": name, **entry} for name, entry in sorted(read_held(ws).items())],
            "in_subfolders": in_subfolders(ws),
            "unfinished": [printable(c.name) for c in leftover_claims(ws)],
            "ledgers_pending": sorted(stale_years(ws) | behind_years(ws, now)),
            "today": {"accepted": counts.get("archived", 0), "refused": counts.get("refused", 0)},
            "recent_refusals": journal.recent_refusals(recent),
            "recent_events": [{"at": e["at"], "kind": e["kind"], "number": e["number"], **e["detail"]}
                              for e in journal.events(("rebuilt",), recent)]}
