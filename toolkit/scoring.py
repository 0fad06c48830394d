"""Seed §10: points per 责任部门 per month of 受理时间, every point a line with its case and rule.
Each case counts in exactly one class: 非责任 -> non-responsible; 责任 and 重大 -> major; 责任
otherwise -> responsible. Late feedback and appeals add their own lines."""
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from .deadlines import STAGE_NAMES
from .period import month_bounds

UNASSIGNED = "未指定单位"
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

    def add(self, number: str, reason: str, points) -> None:
        self.lines.append(Line(number, reason, float(points)))
        self.points = float(Decimal(str(self.points)) + Decimal(str(points)))

    def to_json(self) -> dict:
        return asdict(self)


def late_stages(state: dict, as_of: datetime) -> list:
    late = []
    for stage in ("investigation", "handling"):
        due = state["deadlines"].get(stage)
        met = state["met"].get(stage)
        if stage in state["late"] or (due and not met and datetime.fromisoformat(due) < as_of):
            late.append((stage, due, met))
    return late


def score_month(journal, policy, month: str, now: datetime | None = None) -> list[UnitScore]:
    start, end = month_bounds(month)
    period_end = end - timedelta(seconds=1)
    as_of = min(now, period_end) if now else period_end
    units: dict = {}

    def unit_of(name):
        return units.setdefault(name, UnitScore(name))
    major_points = Decimal(str(policy.section("scoring")["major_points"]))
    for case in journal.cases_received(start, end):
        state, number = case["state"], case["number"]
        score = unit_of(state.get("unit") or case["facts"].get("unit") or UNASSIGNED)
        responsibility = state["responsibility"]
        if responsibility == "非责任":
            score.non_responsible += 1
            n = score.non_responsible
            score.add(number, f"非责任投诉当月第{n}起：5起及以下不扣分，超出每起扣0.3分（办法10.1）",
                      Decimal("0.3") if n > 5 else 0)
        elif responsibility == "责任" and state["severity"] == "重大":
            score.major += 1
            points = Decimal(str(state["major_points"])) if state.get("major_points") is not None else major_points
            basis = "反馈单考核分值" if state.get("major_points") is not None else f"策略 major_points={major_points}"
            score.add(number, f"重大投诉（责任）每起扣{points}分，{basis}（办法10.1）", points)
        elif responsibility == "责任":
            score.responsible += 1
            n = score.responsible
            score.add(number, f"责任投诉当月第{n}起：前3起每起1分，第4起起每起1.5分（办法10.1）",
                      Decimal("1.5") if n > 3 else 1)
        late = late_stages(state, as_of)
        if late:
            score.late += 1
            detail = "；".join(f"{STAGE_NAMES[s]}时限{(due or '')[:16].replace('T', ' ')}，"
                              + (f"实际反馈{met[:16].replace('T', ' ')}" if met else "期末仍未反馈")
                              for s, due, met in late)
            score.add(number, f"未在时限内反馈（{detail}），每起扣0.5分（办法10.1备注）", Decimal("0.5"))
        appeal = state.get("appeal") or {}
        if appeal.get("ruling") == "维持":
            score.add(number, "申诉经受理维持原判定，再扣当期考核0.5分（办法10.2）", Decimal("0.5"))
        elif appeal.get("ruling") == "变更":
            unit_of(OFFICE).add(number, "申诉经受理变更原判定，扣服务管理办公室当期考核1分（办法10.2）", 1)
    ordered = [units[name] for name in policy.units if name in units]
    return ordered + [score for name, score in units.items() if name not in policy.units]


def case_points(scores: list) -> dict:
    """{number: points} summed over every unit's lines."""
    total: dict = {}
    for score in scores:
        for line in score.lines:
            total[line.number] = float(Decimal(str(total.get(line.number, 0))) + Decimal(str(line.points)))
    return total
