"""Regenerate the journal from archive/ alone: every case file's forms are replayed from their
provenance sidecars in the order they were first accepted; numbering continues after the highest
archived number; classification and case states are derived again."""
import json
import os
from datetime import datetime

from .archive import SIDECAR_SUFFIX
from .cases import derive
from .classify import reclassify_all
from .forms.labels import normalise
from .intake import customer_key
from .journal import Journal
from .numbering import NumberPattern
from .problems import Problem


def archived_sidecars(ws) -> list:
    """(provenance, form path) of every archived form, in first-accepted order."""
    found = []
    for sidecar in ws.archive.glob(f"*/*/*/*{SIDECAR_SUFFIX}"):
        form = sidecar.with_name(sidecar.name[: -len(SIDECAR_SUFFIX)])
        if form.exists():
            found.append((json.loads(sidecar.read_text(encoding="utf-8")), form))
    return sorted(found, key=lambda item: (item[0].get("order", 0), item[0]["arrived_at"], item[0]["version"]))


def _replay(journal: Journal, ws, entries: list, progress) -> list:
    pattern = NumberPattern(ws.policy.number_pattern)
    numbers = []
    for index, (meta, form) in enumerate(entries, start=1):
        facts, number = meta["fields"], meta["number"]
        if meta["form"] == "intake":
            journal.put_case(number, datetime.fromisoformat(facts["received_at"]),
                             customer_key(facts.get("phone"), facts.get("customer_name"), facts.get("address")),
                             normalise(facts.get("target")), facts)
            journal.reserve_number(pattern, number)
            numbers.append(number)
        journal.add_file(sha256=meta["sha256"], original_name=meta["original_name"],
                         arrived_at=datetime.fromisoformat(meta["arrived_at"]), kind=meta["form"], number=number,
                         version=meta["version"], path=ws.relative(form), status="archived",
                         submitted_by=meta["submitted_by"], problems=[Problem(**p) for p in meta["problems"]],
                         facts=facts)
        if progress and index % 500 == 0:
            progress(index, len(entries))
    return list(dict.fromkeys(numbers))


def rebuild_journal(ws, progress=None) -> int:
    """Replace the workspace journal by one derived from the archive; returns the number of cases."""
    entries = archived_sidecars(ws)
    target = ws.journal_path
    fresh_path = target.with_name(target.name + ".rebuild")
    for leftover in (fresh_path, *(fresh_path.with_name(fresh_path.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    fresh = Journal(fresh_path)
    with fresh.transaction():
        numbers = _replay(fresh, ws, entries, progress)
        reclassify_all(fresh, ws.policy)
        for number in numbers:
            fresh.set_state(number, derive(fresh.case(number), fresh.case_files(number), ws.policy).to_json())
        fresh.log(datetime.now().replace(microsecond=0), "rebuilt", None, cases=len(numbers), files=len(entries))
    fresh.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fresh.close()
    if "journal" in ws.__dict__:
        ws.journal.close()
        del ws.__dict__["journal"]
    for stale in (target.with_name(target.name + s) for s in ("-wal", "-shm")):
        stale.unlink(missing_ok=True)
    os.replace(fresh_path, target)
    return len(numbers)
