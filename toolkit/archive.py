"""The case files (投诉事件档案): archive/YYYY/MM/<编号>/<编号>-<form>-v<N>.<ext>, each with a
provenance sidecar (<file>.meta.json) from which a rebuild regenerates the journal. A form is first
written to .tousu/staging/, the journal commits, then it is moved into place; recover() finishes
or undoes whatever a crash left between those steps."""
import json
import os
from pathlib import Path

from .forms.grid import write_text

SIDECAR_SUFFIX = ".meta.json"


def archived_name(number: str, form_name: str, version: int, suffix: str) -> str:
    return f"{number}-{form_name}-v{version}{suffix.lower()}"


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _write_atomically(path: Path, write) -> None:
    temp = path.with_name(path.name + ".writing")
    with open(temp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)


def stage(ws, reading, number: str, name: str, provenance: dict) -> Path:
    """Write the form, with its number filled in, and its sidecar into staging."""
    slot = reading.fields[reading.kind.number_field]
    if slot.found and slot.slot is not None and slot.value != number:
        write_text(slot.slot, slot.prefix + number)
    target = ws.staging / name
    _write_atomically(target, reading.source.save)
    payload = json.dumps(provenance, ensure_ascii=False, indent=1).encode("utf-8")
    _write_atomically(sidecar_of(target), lambda fh: fh.write(payload))
    return target


def publish(ws, relative_path: str) -> bool:
    """Move a staged form and its sidecar into the case folder. True when it is in place."""
    target = ws.root / relative_path
    staged = ws.staging / target.name
    target.parent.mkdir(parents=True, exist_ok=True)
    for source, destination in ((sidecar_of(staged), sidecar_of(target)), (staged, target)):
        if source.exists():
            os.replace(source, destination)
    return target.exists() and sidecar_of(target).exists()


def recover(ws) -> None:
    """Complete files whose journal row committed but whose move did not happen; forget rows
    whose staged copy is gone (their number stays used: sequences never go back); clear staged
    copies whose transaction never committed. Call with the workspace lock held."""
    journal = ws.journal
    for row in journal.staged_files():
        with journal.transaction():
            if publish(ws, row["path"]):
                journal.mark_archived(row["id"])
            else:
                journal.drop_file(row["id"])
    for leftover in ws.staging.glob("*"):       # written before a transaction that never committed
        leftover.unlink(missing_ok=True)
