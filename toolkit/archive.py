"""The case files (投诉事件档案): archive/YYYY/MM/<编号>/<编号>-<form>-v<N>.<ext>, each with its provenance
sidecar (<file>.meta.json), refusal records under archive/拒收记录/YYYY-MM/, and the archive counters.
A form is first written to archive/.staging/, the journal commits, then it is moved into place; an
archived file is never replaced. recover() finishes or undoes whatever a crash left between those steps."""
import glob
import hashlib
import io
import os
import re
from dataclasses import replace
from pathlib import Path

from .counters import Counters, read_counters, write_counters
from .errors import ToolkitError
from .files import TargetExists, fsync_folder, move_no_replace, write_atomically
from .forms.grid import write_text
from .forms.patch import CannotPatch, patch_text

SIDECAR_SUFFIX = ".meta.json"
PATCHABLE = ("xlsx", "docx")        # formats whose number is patched into the package
REFUSALS = "拒收记录"
CASE_FOLDERS = "[0-9][0-9][0-9][0-9]/[0-9][0-9]/*"
YEAR, MONTH = re.compile("[0-9]{4}"), re.compile("[0-9]{2}")      # the first two levels of CASE_FOLDERS


class ArchiveConflict(ToolkitError):
    """Publishing would replace an archived file: the journal does not agree with the archive."""


def archived_name(number: str, form_name: str, version: int, suffix: str) -> str:
    return f"{number}-{form_name}-v{version}{suffix.lower()}"


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _folders(parent: Path, name: re.Pattern[str] | None = None) -> list[os.DirEntry]:
    with os.scandir(parent) as entries:
        return [e for e in entries if e.is_dir(follow_symlinks=False) and (name is None or name.fullmatch(e.name))]


def case_folders(archive: Path) -> list[os.DirEntry]:
    """Every archive/YYYY/MM/<case>/, listed with os.scandir (pathlib's glob takes seconds at 50,000
    cases)."""
    return [case for year in _folders(archive, YEAR) for month in _folders(Path(year.path), MONTH)
            for case in _folders(Path(month.path))]


def refusal_records(archive: Path):
    return (archive / REFUSALS).glob("*/*.json")


def refusal_path(ws, refusal) -> Path:
    return ws.archive / REFUSALS / f"{refusal.arrived_at:%Y-%m}" / f"{refusal.submission}.json"


def stage(ws, reading, name: str, provenance):
    """Write the form, with its number filled in, and its sidecar into staging; returns the provenance
    completed with the archived copy's SHA-256. A legacy file is the numbered twin `name`, and the
    original as received is staged beside it under the same name with its own suffix (no sidecar)."""
    data = numbered(reading, provenance.number)
    provenance = replace(provenance, archived_sha256=hashlib.sha256(data).hexdigest())
    ws.staging.mkdir(parents=True, exist_ok=True)
    target = ws.staging / name
    original = reading.source.original
    if original is not None:
        _write_staged(target.with_suffix(original.suffix), original.data)
    _write_staged(target, data)
    _write_staged(sidecar_of(target), provenance.dumps())
    fsync_folder(ws.staging)
    return provenance


def _write_staged(path: Path, data: bytes) -> None:
    """A staged file, written and fsynced in place: no temp file and rename (files.write_atomically)
    is needed, as only the lock holder writes staging, nothing reads a staged file before its journal
    row commits (after this fsync and the folder's), and recover() removes what a transaction that
    never committed left there."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def numbered(reading, number: str) -> bytes:
    """The clerk's file with the number written into its slot: the one cell or Word paragraph patched
    inside the package, every other byte as received (the file as received when the slot already holds
    it or the form has none). Only what patching cannot do faithfully (patch.CannotPatch: a formula in
    the slot, a zip64 or encrypted member, rows or cells without references, a part not in UTF-8) is
    written through the parsed document and re-saved whole."""
    slot = reading.fields[reading.kind.number_field]
    source = reading.source
    patchable = source.format in PATCHABLE          # a legacy original gets a numbered twin, saved whole
    if patchable and (not slot.found or slot.slot is None or slot.value == number):
        return source.data
    text = slot.prefix + number + slot.suffix
    try:
        if not patchable or slot.slot is None:
            raise CannotPatch("saved whole")
        return patch_text(source.data, slot.slot.locator, text)
    except CannotPatch:
        if slot.slot is not None:
            write_text(slot.slot, text)
        buffer = io.BytesIO()
        source.save(buffer)
        return buffer.getvalue()


def ensure_free(ws, relative_path: str) -> None:
    target = ws.root / relative_path
    if any(target.parent.glob(f"{glob.escape(target.stem)}.*")):     # the form, its sidecar, a kept original
        raise ArchiveConflict(f"归档位置已有文件「{relative_path}」，不会覆盖。日志与归档不一致，"
                              f"请运行 tousu verify 查看，再运行 tousu ledger rebuild。")


def publish(ws, relative_path: str) -> bool:
    """Move a staged form, its sidecar and the original it is the twin of into the case folder, the
    form last, never replacing anything. True when in place."""
    target = ws.root / relative_path
    staged = ws.staging / target.name
    target.parent.mkdir(parents=True, exist_ok=True)
    originals = [(other, target.with_name(other.name)) for other in ws.staging.glob(f"{glob.escape(staged.stem)}.*")
                 if other not in (staged, sidecar_of(staged))]
    for source, destination in ((sidecar_of(staged), sidecar_of(target)), *originals, (staged, target)):
        if source.exists():
            try:
                move_no_replace(source, destination, sync_folder=False)
            except TargetExists:
                raise ArchiveConflict(f"归档位置已有文件「{ws.relative(destination)}」，不会覆盖；"
                                      f"请运行 tousu verify 查看。") from None
    fsync_folder(target.parent)
    return target.exists() and sidecar_of(target).exists()


def record_refusal(ws, refusal) -> None:
    path = refusal_path(ws, refusal)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, refusal.dumps())


def commit_counters(ws, journal) -> None:
    """Raise the archive counters to the journal's; call inside the transaction, just before COMMIT."""
    counters = read_counters(ws.archive) or Counters()
    mine = journal.counters()
    if not counters.covers(mine):
        counters.raise_to(mine)
        write_counters(ws.archive, counters)


def recover(ws, journal) -> None:
    """Complete files whose journal row committed but whose move did not happen; forget rows
    whose staged copy is gone (their number stays used: sequences never go back); clear staged
    copies whose transaction never committed. Call with the workspace lock held."""
    for row in journal.staged_files():
        with journal.transaction():
            try:
                placed = publish(ws, row["path"])
            except ArchiveConflict:                 # never replace; `tousu verify` names what is there
                placed = False
            if placed:
                journal.mark_archived(row["id"])
            else:
                journal.drop_file(row["id"])
    if ws.staging.exists():
        for leftover in ws.staging.iterdir():       # written before a transaction that never committed
            leftover.unlink(missing_ok=True)
