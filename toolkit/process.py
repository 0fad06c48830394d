"""The one path every file takes: safety -> grid -> recognise -> fields -> values -> rules ->
journal -> archive -> receipt. The watcher, `tousu process`/`check` and the Excel buttons all
call process() or check()."""
import getpass
import hashlib
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import archive
from .cases import derive
from .classify import reclassify
from .clock import Clock
from .deadlines import Deadlines
from .errors import FormRefused
from .followup import assess_followup, register_followup
from .forms.grid import load_docx, load_xlsx
from .forms.kinds import KINDS
from .forms.reader import read, recognise
from .forms.safety import refuse, sniff
from .intake import Assessment, assess_intake, register_intake
from .numbering import NumberPattern
from .policy import Policy
from .receipt import Receipt

ASSESS = {"intake": assess_intake}
REGISTER = {"intake": register_intake}


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


def examine(path: Path, env: Env) -> Examined:
    """Everything that needs no journal: read, recognise, validate, assess."""
    data = path.read_bytes()
    examined = Examined(path, hashlib.sha256(data).hexdigest())
    refused = lambda problems, form=None: Receipt(path.name, "refused", form, problems=problems)  # noqa: E731
    fmt, problem = sniff(path, data)
    if problem:
        examined.refusal = refused([problem])
        return examined
    try:
        source = load_docx(data) if fmt == "docx" else load_xlsx(data, keep_vba=path.suffix.lower() == ".xlsm")
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
    examined.assessment = ASSESS.get(kind.key, assess_followup)(reading, env)
    return examined


def _receipt(examined: Examined, status: str, number: str | None, archived: str | None = None,
             state: dict | None = None) -> Receipt:
    a = examined.assessment
    if not state:
        return Receipt(examined.path.name, status, a.kind, number, a.severity, False, [], a.deadlines,
                       list(a.problems), archived)
    deadlines = Deadlines(**{k: datetime.fromisoformat(v) if v else None for k, v in state["deadlines"].items()})
    return Receipt(examined.path.name, status, a.kind, number, state["severity"], state["suspected_major"],
                   state["major_reasons"], deadlines, list(a.problems), archived, state["status"])


def refresh(journal, number: str, policy: Policy) -> None:
    """Re-derive the classification around a case and the state of every case it touched."""
    for affected in dict.fromkeys([number, *reclassify(journal, number, policy)]):
        journal.set_state(affected, derive(journal.case(affected), journal.case_files(affected), policy).to_json())


def check(path: Path, policy: Policy, clock: Clock = Clock()) -> Receipt:
    """Validate only: no number, nothing written."""
    examined = examine(path, Env(clock.now(), policy))
    return examined.refusal or _receipt(examined, "accepted", examined.assessment.stated_number)


def process(path: Path, ws, clock: Clock = Clock(), submitted_by: str | None = None,
            original_name: str | None = None, arrived_at: datetime | None = None) -> Receipt:
    """Accept one file into the workspace, or refuse it. The input file is never modified."""
    now = clock.now()
    arrived_at = arrived_at or now
    original_name = original_name or path.name
    submitted_by = submitted_by or default_submitter()
    examined = examine(path, Env(now, ws.policy))
    with ws.lock():
        archive.recover(ws)
        receipt = examined.refusal or _register(ws, examined, original_name, arrived_at, submitted_by)
        if receipt.status == "refused":
            with ws.journal.transaction():
                ws.journal.add_file(sha256=examined.sha256, original_name=original_name, arrived_at=arrived_at,
                                    kind=receipt.form, number=None, version=None, path=None, status="refused",
                                    submitted_by=submitted_by, problems=receipt.problems)
        return receipt


def _register(ws, examined: Examined, original_name: str, arrived_at: datetime, submitted_by: str) -> Receipt:
    journal, a, reading = ws.journal, examined.assessment, examined.reading
    pattern = NumberPattern(ws.policy.number_pattern)
    try:
        with journal.transaction():
            earlier = journal.kept_file_by_hash(examined.sha256)
            if earlier is not None:
                receipt = _receipt(examined, "duplicate", earlier["number"], earlier["path"],
                                   journal.case(earlier["number"])["state"])
                receipt.resumed = earlier["original_name"] == original_name
                return receipt
            number, version = REGISTER.get(a.kind, register_followup)(journal, pattern, a, reading, arrived_at)
            name = archive.archived_name(number, reading.kind.name, version, examined.path.suffix)
            received = datetime.fromisoformat(journal.case(number)["received_at"])
            relative = ws.relative(ws.case_folder(number, received.year, received.month) / name)
            file_id = journal.add_file(sha256=examined.sha256, original_name=original_name,
                                       arrived_at=arrived_at, kind=a.kind, number=number, version=version,
                                       path=relative, status="staged", submitted_by=submitted_by,
                                       problems=a.problems, facts=a.facts)
            provenance = {"original_name": original_name, "sha256": examined.sha256,
                          "arrived_at": arrived_at.isoformat(timespec="seconds"), "form": a.kind,
                          "version": version, "number": number, "submitted_by": submitted_by,
                          "order": file_id, "fields": a.facts, "problems": [p.to_json() for p in a.problems]}
            archive.stage(ws, reading, number, name, provenance)
            refresh(journal, number, ws.policy)
            journal.log(arrived_at, "accepted", number, form=a.kind, version=version, file=original_name)
            state = journal.case(number)["state"]
    except FormRefused as refusal:
        return Receipt(examined.path.name, "refused", a.kind, problems=refusal.problems)
    with journal.transaction():
        archive.publish(ws, relative)
        journal.mark_archived(file_id)
    receipt = _receipt(examined, "accepted", number, relative, state)
    receipt.number_cell = reading.where(reading.kind.number_field) or None
    return receipt
