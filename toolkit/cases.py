"""A case's state derived from its forms alone (intake + feedbacks, callbacks, extensions, appeals
in arrival order) and its automatic classification: status, severity, responsibility, deadlines,
when each stage was met, and the notes a clerk should read about the last form. The journal keeps the
result; a rebuild derives the same from the archive.

Adopted readings (SPEC §5):
- One effective severity: 重大 from the moment it applies — the intake's 重大 from 受理时间, rules 8/9
  from the moment they are suspected (until a feedback says 非责任), a feedback's 重大 from its 反馈日期,
  an appeal changed to 重大 from the ruling's arrival. When it applies, every open stage computed from
  a severity takes the 重大 limit counted from that moment, never later than what it already had; a
  stage opened afterwards (callback, appeal window, reopened handling) uses the severity of its start.
- A plan-only feedback (未办结 + 承诺办结日期) meets 处理反馈 and opens 承诺办结 (end of the promised date),
  met by the feedback that reports 已办结.
- An approved extension is filed when its form arrives (the form has no date of its own); it replaces
  the deadlines of the unit's stages that are still open and had not passed at that moment, never
  moving one earlier. A stage already overdue stays late."""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .classify import SEED_RULES
from .deadlines import STAGE_NAMES, UNIT_STAGES, DeadlineRules, Deadlines
from .policy import Policy

STATUSES = ("待调查", "待审核", "处理中", "待回访", "重新处理", "已办结")
MAJOR, MINOR = "重大", "非重大"
Facts = dict[str, Any]                  # a form's values or a journal row, as JSON gives them back
DueFrom = Callable[[str, datetime], datetime | None]    # (severity, start) -> a stage's due moment


def _dt(value: str) -> datetime:
    """A moment every form that reaches a case carries (受理时间, 反馈日期, 回访日期, arrival)."""
    return datetime.fromisoformat(value)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def overrun(delta: timedelta) -> str:
    """「2天3小时」: how far past a deadline, to the minute."""
    minutes = max(1, -(-int(delta.total_seconds()) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "",
             f"{minutes}分钟" if minutes and not days else ""]
    return "".join(parts)


@dataclass
class CaseState:
    number: str
    status: str
    severity: str                       # 重大 | 非重大 (as scored: auto rules count once 责任 is confirmed)
    suspected_major: bool
    major_reasons: list[str]
    responsibility: str | None          # 责任 | 非责任 | None (no feedback yet)
    unit: str | None
    deadlines: Deadlines
    met: dict[str, str] = field(default_factory=dict)   # stage -> ISO moment it was met
    late: list[str] = field(default_factory=list)   # stages fed back after their (extended) deadline
    evaluation: str | None = None                   # last callback's 客户评价
    appeal: Facts | None = None                     # last appeal: {"ruling", "new_class", "unit"}
    major_points: float | None = None               # 考核分值 written on the feedback (wins over the policy)
    notes: list[str] = field(default_factory=list)  # what the clerk should know about the last form (提示)

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "deadlines": self.deadlines.to_json(STAGE_NAMES)}


def _staff_reasons(facts: Facts) -> list[str]:
    return [f"规则{n}：{SEED_RULES[n]}" for n in facts.get("major_rules") or []]


def derive(case: Facts, files: list[Facts], policy: Policy) -> CaseState:
    """`case`: the journal row (facts = the latest intake's values, auto = rules 8/9);
    `files`: the case's accepted forms in arrival order, each {kind, facts, arrived_at}."""
    facts, auto = case["facts"], case["auto"]
    replay = _Replay(DeadlineRules(policy), facts, auto)
    for entry in files:
        replay.step(entry)
    staff_major = replay.staff_major()
    responsibility = replay.responsibility()
    suspected = bool(auto) and not staff_major and responsibility is None
    major = staff_major or (bool(auto) and responsibility == "责任")
    return CaseState(case["number"], replay.status, MAJOR if major else MINOR, suspected,
                     _staff_reasons(facts) + [auto[k]["text"] for k in sorted(auto)], responsibility,
                     _unit(policy, replay.feedback.get("unit"), facts.get("unit")), replay.deadlines, replay.met,
                     replay.late, replay.evaluation, replay.appeal, replay.feedback.get("major_points"), replay.notes)


def _unit(policy: Policy, *named: str | None) -> str | None:
    """The case's unit: the first one named (feedback's 责任部门, then intake's 承办单位) that is a unit of the
    policy. Anything else a form says stays in its facts, but no case is addressed or charged to it."""
    return next((unit for unit in named if unit and unit in policy.units), None)


class _Replay:
    """Walk the forms in arrival order: the severity in force at each moment, stages met, extensions,
    reviews, callbacks, reopening, and the notes about the form just walked."""
    evaluation: str | None              # the last callback's 客户评价
    judged: datetime | None             # when the final review arrived (the appeal window opens)

    def __init__(self, rules: DeadlineRules, facts: Facts, auto: Facts):
        self.rules, self.channel_class = rules, facts["channel_class"]
        self.received, required = _dt(facts["received_at"]), _date(facts.get("required_date"))
        self.intake_major = facts.get("severity") == MAJOR
        self.suspected_at = min((_dt(reason["since"]) for reason in auto.values()), default=None)
        self.feedback: Facts = {}           # the latest feedback so far
        self.appeal: Facts | None = None    # the latest ruling so far
        self.met: dict[str, str] = {}
        self.late: list[str] = []
        self.notes: list[str] = []
        self.status, self.evaluation, self.judged = "待调查", None, None
        self.deadlines = rules.intake(self.channel_class, MAJOR if self.intake_major else MINOR, self.received,
                                      required)

        def intake_due(stage: str) -> DueFrom:
            return lambda severity, start: getattr(rules.intake(self.channel_class, severity, start, required), stage)

        # stage -> (start, severity -> due from start): how to recompute an open stage when 重大 applies
        self.basis: dict[str, tuple[datetime, DueFrom]] = {
            stage: (self.received, intake_due(stage)) for stage in ("investigation", "handling")}
        if self.suspected_at and not self.intake_major:
            self._raise(self.suspected_at)

    # --- severity ----------------------------------------------------------------------------
    def _ruled_class(self) -> str | None:
        return self.appeal["new_class"] if self.appeal and self.appeal["ruling"] == "变更" else None

    def staff_major(self) -> bool:
        ruled = self._ruled_class()
        if ruled:                                   # the ruling replaces the judgement appealed
            return ruled == MAJOR
        return self.intake_major or self.feedback.get("severity") == MAJOR

    def responsibility(self) -> str | None:
        ruled = self._ruled_class()
        if ruled:
            return "非责任" if ruled == "非责任" else "责任"
        return self.feedback.get("responsibility")

    def severity_at(self, moment: datetime) -> str:
        """For deadlines: staff judgement, or rules 8/9 suspected by then and not cleared by 非责任."""
        suspected = self.suspected_at is not None and self.suspected_at <= moment \
            and self.responsibility() != "非责任"
        return MAJOR if self.staff_major() or suspected else MINOR

    def _raise(self, moment: datetime) -> None:
        """重大 applies from `moment`: open stages take the major limits from then, never later."""
        for stage, (start, due_from) in self.basis.items():
            due = getattr(self.deadlines, stage)
            if due and stage not in self.met:
                setattr(self.deadlines, stage, min(due, due_from(MAJOR, max(start, moment))))

    def _judge(self, moment: datetime, change: Callable[[], None]) -> None:
        """Apply a new judgement (feedback, ruling) given at `moment`."""
        before = self.severity_at(moment)
        change()
        if before == MINOR and self.severity_at(moment) == MAJOR:
            self._raise(moment)

    def _schedule(self, stage: str, start: datetime, due_from: DueFrom) -> None:
        """(Re)open a severity-bound stage counted from `start`."""
        self.basis[stage] = (start, due_from)
        setattr(self.deadlines, stage, due_from(self.severity_at(start), start))
        self.met.pop(stage, None)

    def _fix(self, stage: str, due: datetime | None) -> None:
        """Set a deadline that no longer follows the severity (an approved date, a promised date)."""
        self.basis.pop(stage, None)
        setattr(self.deadlines, stage, due)

    # --- stages -------------------------------------------------------------------------------
    def _meet(self, stage: str, moment: datetime) -> None:
        """A stage fed back: lateness is judged against the deadline in force at that moment."""
        if stage in self.met:
            return
        self.met[stage] = _iso(moment)
        due = getattr(self.deadlines, stage)
        if due and moment > due and stage not in self.late:
            self.late.append(stage)
            self.notes.append(f"{STAGE_NAMES[stage]}逾期：时限 {_when(due)}，反馈日期 {_when(moment)}，"
                              f"超出 {overrun(moment - due)}，计入考核（办法10.1备注）。")

    def _is_open(self, stage: str) -> bool:
        return getattr(self.deadlines, stage) is not None and stage not in self.met

    def _callback_from(self, handled: datetime) -> None:
        self._schedule("callback", handled,
                       lambda severity, start: self.rules.callback(self.channel_class, severity, start))

    def _second_callback(self) -> None:
        """Seed 6.1: the callback after a plan is due one natural day after the promised date."""
        self._fix("callback", self.deadlines.second_callback)
        self.met.pop("callback", None)

    # --- forms --------------------------------------------------------------------------------
    def step(self, entry: Facts) -> None:
        self.notes = []
        getattr(self, f"_{entry['kind']}")(entry["facts"], _dt(entry["arrived_at"]))

    def _intake(self, values: Facts, arrived: datetime) -> None:
        for stage in UNIT_STAGES:
            due = getattr(self.deadlines, stage)
            if due and due < arrived and stage not in self.met:
                self.notes.append(f"登记时{STAGE_NAMES[stage]}时限（{_when(due)}）已过：该环节将计为超时，"
                                  f"请承办单位尽快反馈。")

    def _feedback(self, values: Facts, arrived: datetime) -> None:
        fed_back = _dt(values["feedback_date"])
        self._judge(fed_back, lambda: setattr(self, "feedback", values))
        self._meet("investigation", fed_back)
        reviewed = bool(values.get("final_review"))
        if reviewed and self.judged is None:
            self.judged = arrived
            self.deadlines.appeal = self.rules.appeal(self.channel_class, self.severity_at(arrived), arrived)
        first = "handling" not in self.met
        self._meet("handling", fed_back)            # a plan on time meets 处理反馈 as well (附件1 说明2)
        if values.get("completion") != "已办结":
            promised = _date(values.get("promised_date"))
            if first and promised:                   # a new plan opens 承诺办结
                self.deadlines.promise = self.rules.promise(promised)
                self.met.pop("promise", None)
                self._callback_from(fed_back)        # the first callback, about the plan
            self.status = "处理中" if reviewed else "待审核"
            return
        if first:
            self._callback_from(fed_back)
        elif self._is_open("promise"):
            self._meet("promise", fed_back)
            if "promise" in self.late:              # completed late: the callback counts from the completion
                self._callback_from(fed_back)
            else:
                self._second_callback()
        self.status = "待回访" if reviewed else "待审核"

    def _callback(self, values: Facts, arrived: datetime) -> None:
        self.evaluation = values["evaluation"]
        called = _dt(values["callback_date"])
        if "handling" not in self.met:
            self.notes.append("该投诉尚未收到调查处理反馈单：回访已记录，但案件状态与时限不变。")
        elif self.evaluation == "不满意":            # seed 6.3: back to the unit for handling
            self.met.pop("handling")
            self._schedule("handling", called,
                           lambda severity, start: self.rules.reopened(self.channel_class, severity, start))
            if self._is_open("promise"):
                self.deadlines.promise = None
            self._fix("callback", None)
            self.met.pop("callback", None)
            self.status = "重新处理"
        elif self._is_open("promise"):               # the plan's callback; the second follows the promise
            self._second_callback()
        else:
            self.met["callback"] = _iso(called)
            self.status = "已办结" if self.status == "待回访" else self.status

    def _extension(self, values: Facts, arrived: datetime) -> None:
        approval = values.get("approval")
        if approval != "同意":
            self.notes.append("延期未获批准，时限不变。" if approval == "不同意"
                              else "延期申请尚未审批（审批意见为空），时限不变；审批同意后请重新提交本单。")
            return
        extend_to = _date(values["extend_to"])
        assert extend_to is not None                # 申请延期至 is required: the form is refused without it
        extended = datetime.combine(extend_to, self.rules.policy.end_of_day)
        moved, passed = [], []
        for stage in UNIT_STAGES:
            due = getattr(self.deadlines, stage)
            if due is None or stage in self.met:
                continue
            if due < arrived:
                passed.append(f"{STAGE_NAMES[stage]}（{_when(due)}）")
            elif extended > due:
                self._fix(stage, extended)
                moved.append(STAGE_NAMES[stage])
        if moved:
            self.notes.append(f"已延期至 {_when(extended)}：{'、'.join(moved)}。")
        if passed:
            self.notes.append(f"延期申请送达时（{_when(arrived)}）{'、'.join(passed)}时限已过：该环节不予延期，"
                              f"仍计为超时。")

    def _appeal(self, values: Facts, arrived: datetime) -> None:
        if values.get("ruling"):
            self._judge(arrived, lambda: setattr(self, "appeal", {k: values.get(k)
                                                                  for k in ("ruling", "new_class", "unit")}))
