"""Supervision (seed 5.3.2, 附件4, SPEC §8): every open stage past its deadline, and one 投诉处理督办通知单
per overdue case and unit stage, rendered with docxtpl from templates/ and filed in notices/ and the
case folder. A notice already in the case folder is never issued again; a notice is a real document,
so none is dated in the future. It goes to the case's unit, never to the clerk who took the call, and
always fits one A4 page: a long 投诉内容 is shortened with a pointer to the case file."""
import io
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial

from docxtpl import DocxTemplate

from .cases import CaseState
from .deadlines import DEFAULT
from .errors import FutureNotice
from .files import write_atomically
from .paths import TEMPLATES
from .policy import Policy

TEMPLATE = TEMPLATES / "附件4 投诉处理督办通知单.docx"
NO_UNIT = "未指定承办单位（请服务管理办公室指定）"
# Characters of 投诉内容 on the page: ~17 lines of a 16 cm cell at 12 pt, counting every character as a
# full-width one (a Latin "W" or "m" is nearly as wide as a Chinese character in most fonts).
CONTENT_CHARS = 600
FIELD_CHARS = 30                 # names and units in the small cells
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Overdue:
    number: str
    stage: str
    due: str
    unit: str | None
    notice: str | None = None
    new: bool = False            # the notice was rendered by this run
    name: str = ""               # the stage as the policy names it (「进展反馈（第2次）」 for an occurrence)
    owed: bool = True            # the unit owes it: a notice goes to the unit

    def to_json(self) -> dict:
        """The listing's JSON (SPEC §10): the stage by its key, not its name."""
        return {k: v for k, v in asdict(self).items() if k not in ("name", "owed")}


def find_overdue(journal, as_of: datetime, policy: Policy | None = None) -> list[Overdue]:
    """Every stage of every case that is not met and whose deadline passed before `as_of`, in the
    order of the case's deadlines (both 调查反馈 and 处理反馈 when nothing came back); each missed
    occurrence of a recurring stage on its own. A window (申诉期限) or a stage no form meets is never
    overdue. `policy`: the workspace's (the default policy's stages otherwise)."""
    policy = policy or DEFAULT
    found = []
    for case in journal.cases_received(datetime.min, as_of):
        state = CaseState.from_json(case["state"])
        supervised = [key for key in state.deadlines.stages()
                      if (stage := policy.stage(key)) and not stage.window and stage.met_by]
        for key, due in state.overdue(as_of, supervised):
            stage = policy.stage(key.partition("#")[0])
            found.append(Overdue(case["number"], key, due.isoformat(timespec="seconds"), state.unit,
                                 name=policy.stage_name(key), owed=bool(stage and stage.unit_owes)))
    return found


def listing_warnings(overdue: list[Overdue]) -> list[str]:
    """Chinese sentences the listing shows below the items."""
    unassigned = list(dict.fromkeys(item.number for item in overdue if not item.unit and item.owed))
    if not unassigned:
        return []
    return [(f"{'、'.join(unassigned)} 未指定承办单位：督办通知单无法送达具体单位，请服务管理办公室指定"
             f"（受理记录单的「承办单位」或反馈单的「责任部门」）。")]


def notice_name(number: str, stage_name: str) -> str:
    return f"{number}-督办通知单-{stage_name}.docx"


def fit(text: str | None, budget: int, pointer: str = "……") -> str:
    """The clerk's text as printable XML text (control characters dropped, line breaks and runs of
    spaces as one space), cut to `budget` characters, `pointer` included, when it is longer."""
    text = " ".join(NOT_XML.sub("", text or "").split())
    return text if len(text) <= budget else text[:budget - len(pointer)] + pointer


def _context(case: dict, feedback: dict, item: Overdue, folder: str, as_of: datetime, notice_days: int) -> dict:
    facts = case["facts"]
    short = partial(fit, budget=FIELD_CHARS)
    return {"number": item.number, "complaint_date": facts["received_at"][:10],
            "complainant": short(facts.get("customer_name")), "handler": short(item.unit) or NO_UNIT,
            "notice_date": as_of.date().isoformat(),
            "due_date": (as_of.date() + timedelta(days=notice_days)).isoformat(),
            "content": fit(facts.get("content"), CONTENT_CHARS, f"……（全文见投诉事件档案 {folder}/）"),
            "stage": item.name, "original_due": item.due.replace("T", " ")[:16],
            "unit": short(item.unit), "person": short(feedback.get("person"))}


def issue_notices(ws, overdue: list[Overdue], as_of: datetime, now: datetime) -> list[Overdue]:
    """Render a notice for each unit stage not noticed before; sets `notice` on every unit stage and
    `new` on those rendered now. Refuses an `as_of` later than `now`: a notice is dated as_of."""
    if as_of > now:
        raise FutureNotice(f"督办通知单是正式文件，不能按将来的时间生成：截至时间 {as_of:%Y-%m-%d %H:%M} 晚于现在"
                           f"（{now:%Y-%m-%d %H:%M}）。请到时再生成；只查看超时清单（不生成通知单）不受此限。")
    notice_days = ws.policy.notice_days
    journal = ws.journal
    for item in overdue:
        if not item.owed:
            continue
        case = journal.case(item.number)
        folder = ws.case_folder(item.number, int(case["received_at"][:4]), int(case["received_at"][5:7]))
        filed = folder / notice_name(item.number, item.name)
        if not folder.is_dir():          # the case file is gone from the archive: `tousu verify` names it
            continue
        item.notice = ws.relative(filed)
        if filed.exists():
            continue
        document = DocxTemplate(TEMPLATE)
        document.render(_context(case, journal.latest_facts(item.number, "feedback"), item, ws.relative(folder),
                                 as_of, notice_days), autoescape=True)
        ws.notices.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        document.save(buffer)
        for place in (ws.notices / filed.name, filed):
            write_atomically(place, buffer.getvalue())
        item.new = True
        with journal.transaction():
            journal.log(as_of, "notice", item.number, stage=item.stage, file=item.notice)
    return overdue
