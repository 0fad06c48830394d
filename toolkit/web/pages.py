"""What each page shows, worked out from the reader; the templates only lay it out. A unit user's
view is narrowed to its unit and its customers' phone numbers and addresses are masked here, before
anything reaches a template."""
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from ..cases import STATUSES, overrun
from ..forms.kinds import KINDS
from ..notices import NO_UNIT, listing_warnings
from ..period import month_of
from ..results import OverdueResult, ReportResult, ScoreResult
from ..scoring import warnings as score_warnings
from . import charts
from .reader import PAGE_SIZE, Filters, Reader, supervised_stages
from .users import User

MASKED = ("phone", "address")                       # 个人信息: minimum necessary for a unit
FORM_NAMES = {kind.key: kind.name for kind in KINDS}
LABELS = {kind.key: {f.key: f.label for f in kind.fields} for kind in KINDS}
TODAY_PAGE = 200
ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?")


def mask(key: str, value):
    """A phone number keeps its first 3 and last 4 digits; an address its first half, at most 6 characters
    (the city and district)."""
    if key not in MASKED or not value:
        return value
    text = str(value)
    if key == "phone":
        return text[:3] + "****" + text[-4:] if len(text) >= 8 else "****"
    return text[:min(6, len(text) // 2)] + "****"


def shown(user: User, facts: dict) -> dict:
    return facts if user.office else {k: mask(k, v) for k, v in facts.items()}


def when(text: str | None) -> str:
    return text.replace("T", " ")[:16] if text else ""


def readable(value):
    """A form's value as the clerk wrote it: a moment without its ISO 'T' and seconds, a list joined."""
    if isinstance(value, list):
        return "、".join(map(str, value))
    return when(value) if isinstance(value, str) and ISO_MOMENT.fullmatch(value) else value


def allowed(user: User, case: dict | None) -> bool:
    return case is not None and (user.office or case["state"].get("unit") == user.unit)


# ---------------------------------------------------------------------- 今日
def today(reader: Reader, user: User, now: datetime, unit: str = "", page: int = 1) -> dict:
    """Overdue stages (find_overdue at now) and the stages due before the end of tomorrow, by unit."""
    end_of_tomorrow = datetime.combine(now.date() + timedelta(days=2), datetime.min.time())
    scope = user.unit or unit
    moment = now.isoformat(timespec="seconds")
    overdue, soon = [], []
    for received, due, item in reader.stages_due(end_of_tomorrow):       # overdue(now) and the rest
        if not scope or item.unit == scope:
            (overdue if received < moment and due < now else soon).append(item)
    notices = reader.notices()

    def rows(items):
        """This page's rows of `items` and, per unit, how many `items` hold in all."""
        out = []
        for item in items[(page - 1) * TODAY_PAGE:page * TODAY_PAGE]:
            case = reader.case(item.number)
            facts = shown(user, case["facts"])
            due = datetime.fromisoformat(item.due)
            out.append({"number": item.number, "stage": item.stage, "stage_name": item.name,
                        "due": item.due, "unit": item.unit or NO_UNIT, "customer": facts.get("customer_name"),
                        "phone": facts.get("phone"), "late": overrun(now - due) if due < now else "",
                        "notice": notices.get((item.number, item.stage))})
        return out, len(items), Counter(item.unit or NO_UNIT for item in items)
    overdue_rows, overdue_total, overdue_units = rows(overdue)
    soon_rows, soon_total, soon_units = rows(soon)
    order = reader.policy.units
    return {"now": now, "unit": scope, "no_unit": NO_UNIT, "page": page, "warnings": listing_warnings(overdue),
            "pages": max(1, -(-max(overdue_total, soon_total) // TODAY_PAGE)),
            "overdue": _by_unit(overdue_rows, order), "overdue_total": overdue_total, "overdue_units": overdue_units,
            "soon": _by_unit(soon_rows, order), "soon_total": soon_total, "soon_units": soon_units}


def _by_unit(rows: list[dict], order: list[str]) -> list[tuple[str, list[dict]]]:
    """The rows per unit, in the policy's order of units; the cases with no unit last."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["unit"]].append(row)
    rank = {unit: i for i, unit in enumerate(order)}
    return sorted(groups.items(), key=lambda kv: (kv[0] == NO_UNIT, rank.get(kv[0], len(rank)), kv[0]))


def overdue_json(reader: Reader, user: User, now: datetime) -> dict:
    """The overdue stages as `tousu overdue --as-of now --json` prints them (a unit user's own only)."""
    items = [i for i in reader.overdue(now) if user.office or i.unit == user.unit]
    return OverdueResult(now, items, listing_warnings(items)).to_json()


# ---------------------------------------------------------------------- 案件
def case_list(reader: Reader, user: User, filters: Filters, now: datetime) -> dict:
    rows, total = reader.case_page(filters, None if user.office else user.unit)
    moment = now.isoformat(timespec="seconds")
    for row in rows:
        if not user.office:
            row["phone"] = mask("phone", row["phone"])
        row["overdue"] = bool(row["next_due"]) and row["next_due"] < moment
        row["next_due"] = when(row["next_due"])
    return {"rows": rows, "total": total, "filters": filters, "pages": max(1, -(-total // PAGE_SIZE)),
            "units": reader.policy.units, "statuses": STATUSES, "channels": reader.channels(),
            "tiers": reader.policy.tier_names}


# ---------------------------------------------------------------------- 案件详情
def case_detail(reader: Reader, user: User, case: dict, now: datetime) -> dict:
    state = case["state"]
    forms = reader.forms(case["number"])
    files = reader.archived_files(case)
    for form in forms:
        form["name"] = FORM_NAMES.get(form["kind"], form["kind"])
        labels = LABELS.get(form["kind"], {})
        form["fields"] = [(labels.get(k, k), readable(v)) for k, v in shown(user, form["facts"]).items()
                          if v not in (None, "", []) and k in labels]
        form["file"] = form["path"].rsplit("/", 1)[-1] if form["path"] else None
    marks = _stages(reader, state, forms, now)
    notices = {stage: path for (number, stage), path in reader.notices().items() if number == case["number"]}
    return {"case": case, "state": state, "facts": shown(user, case["facts"]), "forms": forms, "files": files,
            "marks": marks, "timeline": charts.timeline(datetime.fromisoformat(case["received_at"]),
                                                        [m for m in marks if m["due"]], now),
            "callbacks": [f for f in forms if f["kind"] == "callback"],
            "appeals": [f for f in forms if f["kind"] == "appeal"], "notices": notices,
            "labels": LABELS["intake"], "stage_names": reader.policy.stage_names}


OUTCOMES = {"met": "按时", "late": "超时", "open": "未到期", "overdue": "已超时未反馈",
            "passed": "已过时限（无表单记录，不督办）"}


def _stages(reader: Reader, state: dict, forms: list[dict], now: datetime) -> list[dict]:
    """Each stage with a deadline: due, met, its outcome, and whether an approved extension set it."""
    end_of_day = reader.policy.end_of_day
    extended = {datetime.combine(datetime.fromisoformat(f["facts"]["extend_to"]).date(), end_of_day)
                for f in forms if f["kind"] == "extension" and f["facts"].get("approval") == "同意"
                and f["facts"].get("extend_to")}
    marks, supervised = [], supervised_stages(reader.policy)
    for stage, name in reader.policy.stage_names.items():
        due = state["deadlines"].get(stage)
        if not due:
            continue
        due_at, met = datetime.fromisoformat(due), state["met"].get(stage)
        outcome = ("late" if stage in state["late"] else "met") if met else "open" if due_at >= now else \
            "overdue" if stage in supervised else "passed"
        marks.append({"stage": stage, "name": name, "due": due_at, "met": datetime.fromisoformat(met) if met else None,
                      "outcome": outcome, "outcome_name": OUTCOMES[outcome], "extended": due_at in extended})
    return marks


# ---------------------------------------------------------------------- 月度
def month(reader: Reader, user: User, month: str, now: datetime) -> dict:
    """The 服务月报 figures (report.month_figures) and the scores (scoring.score_month, inside them)."""
    figures, as_of = reader.month(month, now)
    scores = figures["scores"] if user.office else [s for s in figures["scores"] if s.unit == user.unit]
    return {"month": month, "as_of": as_of, "rates": figures["rates"], "scores": scores, "counts": figures["by"],
            "unit_chart": charts.bars(figures["by"]["责任部门"], f"{month} 各责任部门投诉件数"),
            "channel_chart": charts.bars(figures["by"]["受理渠道"], f"{month} 各受理渠道投诉件数"),
            "trend_chart": charts.trend(figures["trend"], "近12个月投诉件数"),
            "summary": month_json(figures, month, scores)}


def month_json(figures: dict, month: str, scores: list) -> dict:
    """{"report": what `tousu report --json` prints but the path of a workbook the web never writes,
    "score": what `tousu score --json` prints (a unit user's own score only)}."""
    report = ReportResult(month, "", figures).to_json()
    del report["report"]
    return {"report": report, "score": ScoreResult(month, scores, "", score_warnings(scores)).to_json()}


def default_month(now: datetime) -> str:
    return month_of(now)
