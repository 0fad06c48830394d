"""Regenerate the journal from archive/ alone: every case file's forms (their provenance sidecars) and
every refusal record, replayed in archive arrival order; numbering and arrival order continue after the
archive's counters; classification and case states are derived again. What cannot be read is skipped
and named, never a reason to stop: the rebuild is the office's recovery path.

`open_current` is what every writer calls under the workspace lock: it completes a half-filed form and
rebuilds the journal first when it is missing, damaged, of another schema, or behind the archive."""
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from .archive import SIDECAR_SUFFIX, case_folders, recover, refusal_records
from .cases import derive
from .classify import reclassify_all
from .clock import local_now
from .counters import Counters, read_counters, write_counters
from .files import write_atomically
from .forms.labels import normalise
from .intake import customer_key
from .journal import DAMAGED, Journal, JournalUnusable
from .numbering import NumberPattern
from .provenance import BadRecord, Provenance, Refusal, load

ARCHIVE_CONTENT = ("[0-9][0-9][0-9][0-9]", "拒收记录")


@dataclass
class Rebuilt:
    cases: int = 0
    files: int = 0
    refusals: int = 0
    skipped: list = field(default_factory=list)       # [(path relative to the workspace, reason)]
    notes: list = field(default_factory=list)         # what a re-read (--reread) could not take from a form


# What open_current rebuilt on the way into a lock, by journal path, for rebuild_journal taking that
# lock: a `ledger rebuild` in a workspace without a journal builds it once, not twice.
_REBUILT: dict[str, Rebuilt] = {}
READERS = 8        # threads reading case folders: with a cold page cache the time is the disk's latency


def read_archive(ws, skipped: list, reread: list | None = None) -> list:
    """[(record, relative path)] of every readable sidecar and refusal record, in arrival order. The
    case folders are listed and their sidecars read by READERS threads at once (the reads wait on the
    disk, not on Python): with 50,000 cases out of the page cache, seconds instead of tens of seconds.
    `reread` (a list for its notes): read each archived form again with today's reader (_reread)."""
    folders = [Path(case.path) for case in case_folders(ws.archive)]
    found = []
    with ThreadPoolExecutor(READERS) as pool:
        for records, problems in pool.map(lambda folder: _read_case_folder(ws, folder, reread), folders,
                                          chunksize=64):
            found += records
            skipped += problems
    for path in refusal_records(ws.archive):
        try:
            found.append((load(path, Refusal), None))
        except BadRecord as exc:
            skipped.append((ws.relative(path), str(exc)))
    return sorted(found, key=lambda item: (item[0].order, item[0].arrived_at, getattr(item[0], "version", 0)))


def _read_case_folder(ws, folder: Path, reread: list | None = None) -> tuple[list, list]:
    """([(record, relative form path)], [(relative sidecar path, reason)]) for one case folder."""
    with os.scandir(folder) as entries:
        names = {e.name for e in entries}
    base = ws.relative(folder)
    found, skipped = [], []
    for name in sorted(n for n in names if n.endswith(SIDECAR_SUFFIX)):
        form = name[: -len(SIDECAR_SUFFIX)]
        where = f"{base}/{name}"
        if form not in names:
            skipped.append((where, "记录对应的表单文件不存在"))
            continue
        try:
            record = load(folder / name, Provenance)
        except BadRecord as exc:
            skipped.append((where, str(exc)))
            continue
        if record.number != folder.name or not form.startswith(f"{record.number}-"):
            skipped.append((where, f"记录中的编号「{record.number}」与所在案卷「{folder.name}」不符，未采用"))
            continue
        if reread is not None:
            record = _reread(ws, folder / form, folder / name, record, reread)
        found.append((record, f"{base}/{form}"))
    return found, skipped


def _reread(ws, form: Path, sidecar: Path, record: Provenance, notes: list) -> Provenance:
    """`ledger rebuild --reread`: the archived form read again by today's reader (after a reader fix), as
    it was read on arrival; its values and defects replace the sidecar's, which is rewritten so that the
    archive stays the truth. A form today's reader refuses keeps what the sidecar holds, with a note."""
    from .process import Env, examine  # process files through the archive: imported when asked
    examined = examine(form, Env(record.arrived_at, ws.policy))
    if examined.assessment is None or examined.assessment.kind != record.form:
        why = "；".join(p.message for p in examined.refusal.problems) if examined.refusal else "表单类别不同"
        notes.append(f"{ws.relative(form)}：按当前程序重读未通过（{why}），沿用归档记录中的内容。")
        return record
    assessment = examined.assessment
    fresh = replace(record, fields=assessment.facts, problems=list(assessment.problems))
    if fresh != record:
        write_atomically(sidecar, fresh.dumps())
    return fresh


def _replay(journal: Journal, ws, entries: list, result: Rebuilt) -> list:
    pattern = NumberPattern(ws.policy.number_pattern)
    numbers = []
    for record, relative in entries:
        try:
            if isinstance(record, Refusal):
                result.refusals += journal.add_refusal(record)
                continue
            facts, number = record.fields, record.number
            if record.form == "intake":
                journal.put_case(number, datetime.fromisoformat(facts["received_at"]),
                                 customer_key(facts.get("phone"), facts.get("customer_name"), facts.get("address")),
                                 normalise(facts.get("target")), facts)
                if pattern.matches(number):
                    journal.reserve_number(pattern, number)
                numbers.append(number)
            elif journal.case(number) is None:
                result.skipped.append((relative, f"案卷 {number} 中没有受理记录单，该表单未采用"))
                continue
            journal.add_file(record, relative, "archived")
            result.files += 1
        except (sqlite3.IntegrityError, KeyError, TypeError, ValueError) as exc:
            result.skipped.append((relative or record.submission, f"记录无法采用（{type(exc).__name__}: {exc}）"))
    return list(dict.fromkeys(numbers))


def build_journal(ws, store, keep_counters: bool = True, reread: bool = False) -> Rebuilt:
    """Write a journal derived from the archive alone into `store` (a JournalStore; what it held is
    replaced); with `keep_counters`, the archive's counters are raised to what the archive holds; with
    `reread`, every archived form is read again (_reread)."""
    result = Rebuilt()
    entries = read_archive(ws, result.skipped, result.notes if reread else None)
    fresh = store.fresh()
    try:
        with fresh.transaction():
            fresh.clear()
            numbers = _replay(fresh, ws, entries, result)
            reclassify_all(fresh, ws.policy)
            for number in numbers:
                fresh.set_state(number, derive(fresh.case(number), fresh.case_files(number), ws.policy).to_json())
            counters = read_counters(ws.archive) or Counters()
            counters.raise_to(Counters(max((r.order for r, _ in entries), default=0)))
            fresh.raise_counters(counters)
            counters.raise_to(fresh.counters())
            if keep_counters:
                write_counters(ws.archive, counters)
            fresh.log(local_now(), "rebuilt", None, cases=len(numbers), files=result.files,
                      refusals=result.refusals, skipped=len(result.skipped))
        fresh.checkpoint()
        result.cases = len(numbers)
    finally:
        fresh.close()
    return result


def rebuild_journal(ws, reread: bool = False) -> Rebuilt:
    """`tousu ledger rebuild`: under the workspace lock, replace the journal by one built beside it from
    the archive; every other process picks the new file up before its next change."""
    _REBUILT.pop(str(ws.journal_path), None)
    with ws.locked() as journal:
        result = _REBUILT.pop(str(ws.journal_path), None)
        if result is None or reread:        # taking the lock did not already rebuild it (no journal yet)
            journal.close()
            result = rebuild_journal_at(ws, ws.journal_store, reread)
            ws.reopen_writer(_writer(ws, ws.journal_store))
    return result


def _archive_has_content(ws) -> bool:
    return any(next(ws.archive.glob(pattern), None) is not None for pattern in ARCHIVE_CONTENT)


def _is_behind(ws, journal: Journal) -> bool:
    """Whether the journal misses something the archive holds; raises the archive counters when it is
    the archive's counters file that is behind (lost, or restored from an older backup)."""
    archived = read_counters(ws.archive)
    mine = journal.counters()
    if archived is None:
        if mine == Counters() and _archive_has_content(ws):
            return True
        write_counters(ws.archive, mine)
        return False
    if not mine.covers(archived):
        return True
    if not archived.covers(mine):
        archived.raise_to(mine)
        write_counters(ws.archive, archived)
    return False


def _writer(ws, store) -> Journal:
    return store.open(taken=lambda number, moment: ws.case_folder(number, moment.year, moment.month).exists())


def open_current(ws) -> Journal:
    """The writable journal, agreeing with the archive. Call with the workspace lock held."""
    store = ws.journal_store
    try:
        journal = _writer(ws, store)
        try:
            recover(ws, journal)
            if not _is_behind(ws, journal):
                return journal
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) not in DAMAGED:
                raise
            raise JournalUnusable(f"日志 {store.location} 已损坏（{exc}）") from None
        except BaseException:
            journal.close()
            raise
        journal.close()
    except JournalUnusable:
        store.set_aside()
    _REBUILT[str(ws.journal_path)] = rebuild_journal_at(ws, store)
    return _writer(ws, store)


def rebuild_journal_at(ws, store, reread: bool = False) -> Rebuilt:
    """Build the journal from the archive and make it the store's. Only while no writable connection is open."""
    return store.replace(lambda target: build_journal(ws, target, reread=reread))
