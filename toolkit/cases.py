"""A case's state derived from its forms alone (intake + feedbacks, callbacks, extensions, appeals
in arrival order) and its automatic classification: status, severity, responsibility, deadlines and
when each stage was met. The journal keeps the result; a rebuild derives the same from the archive."""
from dataclasses import dataclass, field
from datetime import date, datetime

from .classify import SEED_RULES
from .deadlines import DeadlineRules, Deadlines

STATUSES = ("待调查", "待审核", "处理中", "待回访", "重新处理", "已办结")


def _dt(value) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _date(value) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


@dataclass
class CaseState:
    number: str
    status: str
    severity: str                       # 重大 | 非重大 (as scored: auto rules count once 责任 is confirmed)
    suspected_major: bool
    major_reasons: list
    responsibility: str | None          # 责任 | 非责任 | None (no feedback yet)
    unit: str | None
    deadlines: Deadlines
    met: dict = field(default_factory=dict)        # stage -> ISO moment it was met
    late: list = field(default_factory=list)        # stages fed back after their (extended) deadline
    evaluation: str | None = None                   # last callback's 客户评价
    appeal: dict | None = None                      # last appeal: {"ruling", "new_class", "unit"}
    major_points: float | None = None               # 考核分值 written on the feedback (wins over the policy)

    def to_json(self) -> dict:
        return {**vars(self), "deadlines": self.deadlines.to_json()}


def _staff_reasons(facts: dict) -> list:
    return [f"规则{n}：{SEED_RULES[n]}" for n in facts.get("major_rules") or []]


def derive(case: dict, files: list, policy) -> CaseState:
    """`case`: the journal row (facts = the latest intake's values, auto = rules 8/9);
    `files`: the case's accepted forms in arrival order, each {kind, facts, arrived_at}."""
    facts, auto = case["facts"], case["auto"]
    rules = DeadlineRules(policy)
    feedbacks = [f for f in files if f["kind"] == "feedback"]
    latest = feedbacks[-1]["facts"] if feedbacks else {}
    ruling = next((f["facts"] for f in reversed(files) if f["kind"] == "appeal" and f["facts"].get("ruling")), None)

    responsibility = latest.get("responsibility")
    staff_major = facts.get("severity") == "重大" or latest.get("severity") == "重大"
    if ruling and ruling["ruling"] == "变更":          # the ruling replaces the judgement appealed
        responsibility = "非责任" if ruling["new_class"] == "非责任" else "责任"
        staff_major = ruling["new_class"] == "重大"
    auto_reasons = [auto[k]["text"] for k in sorted(auto)]
    suspected = bool(auto) and not staff_major and responsibility is None
    major = staff_major or (bool(auto) and responsibility == "责任")

    deadlines = _deadlines(rules, facts, auto if not staff_major else {}, staff_major or bool(auto))
    met, late, status, evaluation = _replay(rules, facts, files, deadlines)
    return CaseState(case["number"], status, "重大" if major else "非重大", suspected,
                     _staff_reasons(facts) + auto_reasons, responsibility, latest.get("unit") or facts.get("unit"),
                     deadlines, met, late, evaluation,
                     {k: ruling.get(k) for k in ("ruling", "new_class", "unit")} if ruling else None,
                     latest.get("major_points"))


def _deadlines(rules: DeadlineRules, facts: dict, auto: dict, major: bool) -> Deadlines:
    """Intake deadlines; a case suspected after its receipt takes the major limits from that moment,
    never later than the limits it already had."""
    received, required = _dt(facts["received_at"]), _date(facts.get("required_date"))
    channel_class = facts["channel_class"]
    if not auto:
        return rules.intake(channel_class, "重大" if major else "非重大", received, required)
    suspected_at = min(_dt(reason["since"]) for reason in auto.values())
    if suspected_at <= received:
        return rules.intake(channel_class, "重大", received, required)
    before = rules.intake(channel_class, "非重大", received, required)
    after = rules.intake(channel_class, "重大", suspected_at, required)
    pick = lambda a, b: min(x for x in (a, b) if x) if (a or b) else None  # noqa: E731
    return Deadlines(pick(before.investigation, after.investigation), pick(before.handling, after.handling))


def _replay(rules: DeadlineRules, facts: dict, files: list, deadlines: Deadlines):
    """Walk the forms in arrival order: stages met, extensions, reviews, callbacks, reopening."""
    channel_class = facts["channel_class"]
    severity = "重大" if facts.get("severity") == "重大" else "非重大"
    met: dict = {}
    late: list = []
    status, evaluation, plan_promised, judged = "待调查", None, None, None

    def meet(stage: str, moment: str) -> None:
        """A stage fed back: lateness is judged against the deadline in force at that moment."""
        if stage in met:
            return
        met[stage] = moment
        due = getattr(deadlines, stage)
        if due and _dt(moment) > due and stage not in late:
            late.append(stage)
    for entry in files:
        kind, values = entry["kind"], entry["facts"]
        if kind == "extension" and values.get("approval") == "同意":
            extended = datetime.combine(_date(values["extend_to"]), rules.policy.end_of_day)
            for stage in ("investigation", "handling"):
                if stage not in met:
                    setattr(deadlines, stage, extended)
        elif kind == "feedback":
            fed_back = values["feedback_date"]
            meet("investigation", fed_back)
            reviewed = bool(values.get("final_review"))
            if reviewed and judged is None:
                judged = _dt(entry["arrived_at"])
                deadlines.appeal = rules.appeal(channel_class, severity, judged)
            if values.get("completion") == "已办结":
                meet("handling", fed_back)
                deadlines.callback = rules.callback(channel_class, severity, _dt(met["handling"]))
                plan_promised = None
                status = "待回访" if reviewed else "待审核"
            else:
                plan_promised = _date(values.get("promised_date"))
                deadlines.callback = rules.callback(channel_class, severity, _dt(fed_back))
                status = "处理中" if reviewed else "待审核"
        elif kind == "callback":
            evaluation = values["evaluation"]
            called = _dt(values["callback_date"])
            if evaluation == "不满意":                 # seed 6.3: back to the unit for handling
                met.pop("handling", None)
                deadlines.handling = rules.after(called, rules.policy.limit(channel_class, severity, "handling"), None)
                deadlines.callback = None
                status = "重新处理"
            elif plan_promised is not None:            # seed 6.1: second callback after the promised date
                deadlines.callback = rules.second_callback(plan_promised)
                met["callback"] = values["callback_date"]
            elif "handling" in met:
                met["callback"] = values["callback_date"]
                status = "已办结" if status == "待回访" else status
    return met, late, status, evaluation
