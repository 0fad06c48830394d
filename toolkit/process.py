"""The one path every file takes: safety -> grid -> recognise -> fields -> values -> rules ->
journal -> archive -> receipt. The watcher, `tousu process`/`check` and the Excel buttons all
call process() or check()."""
import getpass
import hashlib
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import archive
from .cases import CaseState, derive
from .classify import reclassify
from .clock import Clock
from .errors import FileUnreadable, FormRefused, os_reason
from .files import printable
from .followup import assess_followup, register_followup
from .forms.grid import CannotOpen, load
from .forms.kinds import KINDS
from .forms.reader import read, recognise
from .forms.safety import check_size, refuse, sniff
from .intake import Assessment, assess_intake, register_intake
from .journal import KEPT
from .numbering import NumberPattern
from .policy import Policy
from .problems import Problem
from .provenance import Provenance, Refusal
from .receipt import Receipt


@dataclass(frozen=True)
class Env:
    now: datetime
    policy: Policy


@dataclass
class Examined:
    path: Path
    sha256: str
    reading: object = None
    assessment: Assessment | None = None
    refusal: Receipt | None = None


def default_submitter() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (OSError, KeyError):
        return "unknown"


def new_submission_id(now: datetime) -> str:
    """One id per file handed in (the watcher's claim, or one CLI file): time, then random."""
    return f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def read_submitted(path: Path) -> tuple[bytes, Problem | None]:
    """The file's bytes, or (b"", problem) when its size alone refuses it: an oversized (or sparse
    multi-GB) file is never read into memory."""
    try:
        too_large = check_size(path)
        return (b"" if too_large else path.read_bytes()), too_large
    except OSError as exc:
        raise FileUnreadable(f"无法读取文件「{printable(path.name)}」：{os_reason(exc)}。"
                             f"请确认文件没有被其他程序占用、运行 tousu 的账户有读取权限后重新放入。") from None


def examine(path: Path, env: Env) -> Examined:
    """Everything that needs no journal: read, recognise, validate, assess."""
    data, too_large = read_submitted(path)
    examined = Examined(path, hashlib.sha256(data).hexdigest())
    refused = lambda problems, form=None: Receipt(path.name, "refused", form, problems=problems)  # noqa: E731
    fmt, problem = (None, too_large) if too_large else sniff(path, data)
    if problem:
        examined.refusal = refused([problem])
        return examined
    try:
        source = load(fmt, data, path.suffix)
    except CannotOpen as cannot:
        examined.refusal = refused([refuse(str(cannot))])
        return examined
    except Exception:   # any parser failure on hostile or broken bytes is a refusal, not a crash
        examined.refusal = refused([refuse("文件无法打开（内容损坏或不是标准的 Excel/Word 文件），"
                                           "请用 Excel/WPS/Word 打开确认后另存为 .xlsx/.docx 再放入。")])
        return examined
    kind = recognise(source, KINDS)
    if kind is None:
        titles = "、".join(k.title for k in KINDS)
        examined.refusal = refused([refuse(f"不是可识别的表单：前几行中没有表单标题（{titles}），"
                                           f"请使用 templates/ 中的模板，并保留标题行。")])
        return examined
    reading = read(source, kind, env)
    examined.reading = reading
    if reading.errors:
        examined.refusal = refused(reading.problems, kind.key)
        return examined
    examined.assessment = (assess_intake if kind.opens_case else assess_followup)(reading, env)
    return examined


def _receipt(examined: Examined, status: str, number: str | None, policy: Policy, archived: str | None = None,
             state: dict | None = None) -> Receipt:
    """The receipt of a form examined; `state`: its case's state as the journal keeps it, once registered."""
    a = examined.assessment
    if not state:
        return Receipt(examined.path.name, status, a.kind, number, a.severity, False, [], a.deadlines,
                       list(a.problems), archived, stage_names=policy.stage_names)
    case = CaseState.from_json(state)
    return Receipt(examined.path.name, status, a.kind, number, case.severity, case.suspected_major,
                   case.major_reasons, case.deadlines, list(a.problems), archived, case.status,
                   warnings=list(case.notes) if status == "accepted" else [], stage_names=policy.stage_names)


def refresh(journal, number: str, policy: Policy) -> list[str]:
    """Re-derive the classification around a case and the state of every case it touched; returns the
    other cases whose state was re-derived (their ledger rows change too)."""
    affected = list(dict.fromkeys([number, *reclassify(journal, number, policy)]))
    for other in affected:
        journal.set_state(other, derive(journal.case(other), journal.case_files(other), policy).to_json())
    return affected[1:]


def check(path: Path, policy: Policy, clock: Clock = Clock()) -> Receipt:
    """Validate only: no number, nothing written."""
    examined = examine(path, Env(clock.now(), policy))
    receipt = examined.refusal or _receipt(examined, "accepted", examined.assessment.stated_number, policy)
    receipt.checked = True
    return receipt


@dataclass(frozen=True)
class Submission:
    """Who handed a file in, when, under which name, and its id (see new_submission_id)."""
    id: str
    original_name: str
    arrived_at: datetime
    submitted_by: str


def _submission(clock: Clock, submitted_by, original_name, arrived_at, submission, path: Path) -> Submission:
    now = clock.now()
    return Submission(submission or new_submission_id(now), printable(original_name or path.name), arrived_at or now,
                      submitted_by or default_submitter())


def process(path: Path, ws, clock: Clock = Clock(), submitted_by: str | None = None,
            original_name: str | None = None, arrived_at: datetime | None = None,
            submission: str | None = None) -> Receipt:
    """Accept one file into the workspace, or refuse it. The input file is never modified. Processing the
    same submission again (after a crash) completes it: no second number, no second refusal."""
    sub = _submission(clock, submitted_by, original_name, arrived_at, submission, path)
    examined = examine(path, Env(clock.now(), ws.policy))
    with ws.locked() as journal:
        receipt = examined.refusal or _register(ws, journal, examined, sub)
        if receipt.status == "refused":
            _record_refusal(ws, journal, examined, receipt, sub)
    receipt.file, receipt.submission = sub.original_name, sub.id
    return receipt


def record_refusal_of(path: Path, ws, problems: list, clock: Clock = Clock(), submitted_by: str | None = None,
                      original_name: str | None = None, arrived_at: datetime | None = None,
                      submission: str | None = None) -> Receipt:
    """Refuse a submission that could not be processed as a form, with the given problems."""
    sub = _submission(clock, submitted_by, original_name, arrived_at, submission, path)
    try:
        examined = Examined(path, hashlib.sha256(path.read_bytes()).hexdigest())
    except OSError:
        examined = Examined(path, "")
    receipt = Receipt(sub.original_name, "refused", problems=list(problems), submission=sub.id)
    with ws.locked() as journal:
        _record_refusal(ws, journal, examined, receipt, sub)
    return receipt


def _record_refusal(ws, journal, examined: Examined, receipt: Receipt, sub: Submission) -> None:
    """Keep the refusal in the archive (rebuilds count it) and the journal, once per submission."""
    with journal.transaction():
        if journal.file_by_submission(sub.id) is not None:
            return
        refusal = Refusal(sub.original_name, examined.sha256, sub.arrived_at, receipt.form, sub.submitted_by,
                          sub.id, journal.next_order(), list(receipt.problems))
        archive.record_refusal(ws, refusal)
        journal.add_refusal(refusal)
        archive.commit_counters(ws, journal)


def _earlier(ws, journal, examined: Examined, sub: Submission) -> Receipt | None:
    """The receipt of a submission already filed: this one (resumed after a crash) or identical bytes."""
    mine = journal.file_by_submission(sub.id)
    earlier = mine if mine is not None and mine["status"] in KEPT else journal.kept_file_by_hash(examined.sha256)
    if earlier is None:
        return None
    resumed = earlier["submission"] == sub.id          # this very submission, finished after a crash
    receipt = _receipt(examined, "accepted" if resumed else "duplicate", earlier["number"], ws.policy,
                       earlier["path"], journal.case(earlier["number"])["state"])
    receipt.resumed = resumed
    return receipt


def _register(ws, journal, examined: Examined, sub: Submission) -> Receipt:
    a, reading = examined.assessment, examined.reading
    pattern = NumberPattern(ws.policy.number_pattern)
    try:
        with journal.transaction():
            earlier = _earlier(ws, journal, examined, sub)
            if earlier is not None:
                return earlier
            if reading.kind.opens_case:
                number, version = register_intake(journal, pattern, a, reading, sub.arrived_at)
            else:
                number, version = register_followup(journal, ws.policy, a, reading, sub.arrived_at)
            name = archive.archived_name(number, reading.kind.name, version,
                                         reading.source.archived_suffix(examined.path.suffix))
            received = datetime.fromisoformat(journal.case(number)["received_at"])
            relative = ws.relative(ws.case_folder(number, received.year, received.month) / name)
            archive.ensure_free(ws, relative)
            provenance = Provenance(sub.original_name, examined.sha256, sub.arrived_at, a.kind, version, number,
                                    sub.submitted_by, sub.id, journal.next_order(), a.facts, list(a.problems))
            provenance = archive.stage(ws, reading, name, provenance)
            file_id = journal.add_file(provenance, relative, "staged")
            touched = refresh(journal, number, ws.policy)
            journal.log(sub.arrived_at, "accepted", number, form=a.kind, version=version, file=sub.original_name,
                        touched=touched)
            state = journal.case(number)["state"]
            archive.commit_counters(ws, journal)
    except FormRefused as refusal:
        return Receipt(examined.path.name, "refused", a.kind, problems=refusal.problems)
    with journal.transaction():
        archive.publish(ws, relative)
        journal.mark_archived(file_id)
    receipt = _receipt(examined, "accepted", number, ws.policy, relative, state)
    receipt.number_cell = reading.where(reading.kind.number_field) or None
    return receipt
