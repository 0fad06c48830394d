"""Seed §10: points per 责任部门 per month of 受理时间, every point a line with its case and rule.
Each case counts in exactly one class: 非责任 -> non-responsible; 责任 and 重大 -> major; 责任
otherwise -> responsible. Late feedback and appeals add their own lines."""
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal

from .cases import CaseState
from .deadlines import UNIT_STAGES
from .period import month_bounds
from .policy import Policy

UNASSIGNED = "未指定承办单位"       # listed, flagged, never charged (SPEC §7)
OFFICE = "服务管理办公室"
PERSON_PENALTIES = (
    ("重大投诉", "开除；留用察看；当月考核等级最高为C；扣罚当月绩效奖金1000–3000元（可根据情况选择其中1–3项）"),
    ("责任投诉", "当月考核等级最高为B；扣罚当月绩效奖金500–1000元"),
    ("非责任投诉", "当月个人绩效考核扣0–3分/起或扣罚当月奖金0–100元"),
)


@dataclass
class Line:
    number: str
    reason: str
    points: float


@dataclass
class UnitScore:
    unit: str
    major: int = 0
    responsible: int = 0
    non_responsible: int = 0
    late: int = 0
    points: float = 0.0
    lines: list = field(default_factory=list)
    cases: list = field(default_factory=list)     # every case counted here, with or without points
    charged: bool = True        # False: the cases have no unit yet; the points are listed, charged to nobody

    def add(self, number: str, reason: str, points) -> None:
        self.lines.append(Line(number, reason, float(points)))
        self.points = float(Decimal(str(self.points)) + Decimal(str(points)))

    def to_json(self) -> dict:
        return asdict(self)


def late_stages(state: CaseState | dict, as_of: datetime, stages: Iterable[str] = UNIT_STAGES) -> list:
    """[(stage, due, met)] for every unit stage fed back after its deadline, or still missing at as_of
    (CaseState.late_stages). `state`: a CaseState or its JSON (the ledger's rows); `stages`: the policy's
    unit stages."""
    typed = state if isinstance(state, CaseState) else CaseState.from_json(state)
    return typed.late_stages(as_of, stages)


def _late_lines(state: CaseState, start: datetime, as_of: datetime, policy: Policy) -> list[str]:
    """One line per lapse booked in the period from `start`. A lapse is a feedback that came after its
    deadline — the stages one late feedback met are one lapse (a 反馈单 late for 调查 and 处理 costs 0.5, as
    the hand-worked month of issue 5 has it) — or the stages still missing at as_of, together; a later
    lapse of the same case (a missed 承诺办结) is charged again. Each is booked in the month in which its
    first deadline passed (SPEC §7)."""
    lapses: dict = {}
    for stage, due, met in state.late_stages(as_of, policy.unit_stages):
        lapses.setdefault(met, []).append((stage, due, met))
    lines = []
    for stages in lapses.values():
        if start <= min(due for _, due, _ in stages) < as_of:
            lines.append("；".join(f"{policy.stage_name(s)}时限{due:%Y-%m-%d %H:%M}，"
                                  + (f"实际反馈{met:%Y-%m-%d %H:%M}" if met else "期末仍未反馈")
                                  for s, due, met in stages))
    return lines


def score_month(journal, policy: Policy, month: str, now: datetime | None = None,
                received: list | None = None) -> list[UnitScore]:
    """Every unit's points for `month`; a case with no unit is listed under UNASSIGNED, not charged.
    `received`: the month's cases as journal.cases_received gives them, when the caller has read them.
    The class of a case counts in the month of its 受理时间, a late line in the month its deadline
    passed, so cases received earlier with a unit deadline in the month are read as well (selected in
    SQLite, not every case since the beginning parsed here)."""
    start, end = month_bounds(month)
    as_of = min(now, end) if now else end       # a deadline at 23:59:59 of the last day has passed by the end
    units: dict = {}

    def unit_of(name):
        return units.setdefault(name or UNASSIGNED, UnitScore(name or UNASSIGNED, charged=bool(name)))
    major_points = Decimal(str(policy.major_points))
    if received is None:
        received = journal.cases_received(start, end)
    for case in journal.cases_due_between(policy.unit_stages, start, end) + received:
        state, number = CaseState.from_json(case["state"]), case["number"]
        late_lines = _late_lines(state, start, as_of, policy)
        received_before = datetime.fromisoformat(case["received_at"]) < start
        if received_before and not late_lines:
            continue
        score = unit_of(state.unit)              # a policy unit or None (cases.derive)
        score.cases.append(number)
        responsibility = None if received_before else state.responsibility
        if responsibility == "非责任":
            score.non_responsible += 1
            n = score.non_responsible
            score.add(number, f"非责任投诉当月第{n}起：5起及以下不扣分，超出每起扣0.3分（办法10.1）",
                      Decimal("0.3") if n > 5 else 0)
        elif responsibility == "责任" and policy.is_major(state.severity):
            score.major += 1
            points = Decimal(str(state.major_points)) if state.major_points is not None else major_points
            basis = "反馈单考核分值" if state.major_points is not None else f"策略 major_points={major_points}"
            score.add(number, f"{state.severity}投诉（责任）每起扣{points}分，{basis}（办法10.1）", points)
        elif responsibility == "责任":
            score.responsible += 1
            n = score.responsible
            score.add(number, f"责任投诉当月第{n}起：前3起每起1分，第4起起每起1.5分（办法10.1）",
                      Decimal("1.5") if n > 3 else 1)
        for detail in late_lines:
            score.late += 1
            score.add(number, f"未在时限内反馈（{detail}），每起扣0.5分（办法10.1备注）", Decimal("0.5"))
        appeal = {} if received_before else state.appeal or {}
        if appeal.get("ruling") == "维持":
            score.add(number, "申诉经受理维持原判定，再扣当期考核0.5分（办法10.2）", Decimal("0.5"))
        elif appeal.get("ruling") == "变更":
            unit_of(OFFICE).add(number, "申诉经受理变更原判定，扣服务管理办公室当期考核1分（办法10.2）", 1)
    listed = [units[name] for name in policy.units if name in units]
    listed += [score for name, score in units.items() if name not in policy.units and score.charged]
    return listed + ([units[UNASSIGNED]] if UNASSIGNED in units else [])


def warnings(scores: list) -> list[str]:
    """What an auditor must be told about a month's scores (Chinese sentences)."""
    found = []
    for score in scores:
        if not score.charged:
            numbers = score.cases
            found.append(f"{len(numbers)} 件投诉未指定承办单位（{'、'.join(numbers)}），其扣分 {score.points:g} 分"
                         f"仅列示、未计入任何单位；请在受理记录单填写承办单位或在反馈单填写责任部门。")
    return found


def case_points(scores: list) -> dict:
    """{number: points} summed over every unit's lines."""
    total: dict = {}
    for score in scores:
        for line in score.lines:
            total[line.number] = float(Decimal(str(total.get(line.number, 0))) + Decimal(str(line.points)))
    return total
