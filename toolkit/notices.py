"""Supervision (seed 5.3.2, 附件4): every open stage past its deadline, and one 投诉处理督办通知单 per
overdue case and stage, rendered with docxtpl from templates/ and filed in notices/ and the case
folder. A notice already in the case folder is never issued again."""
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from docxtpl import DocxTemplate

from .deadlines import STAGE_NAMES
from .paths import TEMPLATES

TEMPLATE = TEMPLATES / "附件4 投诉处理督办通知单.docx"
UNIT_STAGES = ("investigation", "handling")     # a notice goes to the unit; callbacks are the office's own


@dataclass
class Overdue:
    number: str
    stage: str
    due: str
    unit: str | None
    notice: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


def open_stage(state: dict) -> str | None:
    """The stage the case is waiting for: investigation, then handling, then the callback."""
    met = state["met"]
    if "investigation" not in met:
        return "investigation"
    if "handling" not in met:
        return "handling"
    if "callback" not in met and state["status"] != "已办结":
        return "callback"
    return None


def find_overdue(journal, as_of: datetime) -> list[Overdue]:
    found = []
    for row in journal.db.execute("SELECT number FROM cases ORDER BY received_at, number"):
        case = journal.case(row["number"])
        state = case["state"]
        stage = open_stage(state)
        due = state["deadlines"].get(stage) if stage else None
        if due and datetime.fromisoformat(due) < as_of:
            found.append(Overdue(case["number"], stage, due, state.get("unit") or case["facts"].get("unit")))
    return found


def notice_name(number: str, stage: str) -> str:
    return f"{number}-督办通知单-{STAGE_NAMES[stage]}.docx"


def _context(case: dict, feedback: dict, item: Overdue, as_of: datetime, notice_days: int) -> dict:
    facts = case["facts"]
    return {"number": item.number, "complaint_date": facts["received_at"][:10],
            "complainant": facts.get("customer_name") or "", "handler": item.unit or facts.get("receiver") or "",
            "notice_date": as_of.date().isoformat(),
            "due_date": (as_of.date() + timedelta(days=notice_days)).isoformat(),
            "content": facts.get("content") or "", "stage": STAGE_NAMES[item.stage],
            "original_due": item.due.replace("T", " ")[:16], "unit": item.unit or "",
            "person": feedback.get("person") or ""}


def issue_notices(ws, overdue: list[Overdue], as_of: datetime) -> list[Overdue]:
    """Render a notice for each unit stage not noticed before; sets `notice` on every item."""
    notice_days = ws.policy.section("supervision")["notice_days"]
    journal = ws.journal
    for item in overdue:
        if item.stage not in UNIT_STAGES:
            continue
        case = journal.case(item.number)
        folder = ws.case_folder(item.number, int(case["received_at"][:4]), int(case["received_at"][5:7]))
        filed = folder / notice_name(item.number, item.stage)
        item.notice = ws.relative(filed)
        if filed.exists():
            continue
        document = DocxTemplate(TEMPLATE)
        document.render(_context(case, journal.latest_facts(item.number, "feedback"), item, as_of, notice_days))
        ws.notices.mkdir(parents=True, exist_ok=True)
        copy = ws.notices / filed.name
        document.save(copy)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(copy, filed)
        with journal.transaction():
            journal.log(as_of, "notice", item.number, stage=item.stage, file=item.notice)
    return overdue
