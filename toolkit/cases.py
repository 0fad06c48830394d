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
  met by the feedback that reports 已办结 — unless the policy's 处理反馈 is `met_by = "event:handled"` (seed
  003: 处理完毕, and no 承诺办结): then only the result meets it. The second callback (seed 6.1) is due
  only where the policy gives the callback a limit.
- An approved extension is filed when its form arrives (the form has no date of its own); it replaces
  the deadlines of the unit's stages that are still open and had not passed at that moment, never
  moving one earlier. A stage already overdue stays late.
- The tiers are the policy's: "重大" above is any tier with `major = true`; rules 8/9 raise a case to the
  policy's first major tier. The stages are the policy's too: investigation, handling, promise, callback
  and appeal keep the rules above; any other stage counts from its `from` (receipt, another stage's
  deadline, an event) with the tier in force then, and is met by the first form of its `met_by` dated
  from its start; a recurring stage is owed every period until the result is fed back (event handled),
  each occurrence met by a form dated within it."""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from .classify import SEED_RULES
from .deadlines import DeadlineRules, Deadlines, Recurring
from .forms.kinds import KIND_BY_KEY
from .policy import Policy, Stage

STATUSES = ("待调查", "待审核", "处理中", "待回访", "重新处理", "已办结")
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
    severity: str                       # the policy's tier (as scored: auto rules count once 责任 is confirmed)
    suspected_major: bool
    major_reasons: list[str]
    responsibility: str | None          # 责任 | 非责任 | None (no feedback yet)
    unit: str | None
    deadlines: Deadlines
    met: dict[str, datetime] = field(default_factory=dict)   # stage -> the moment it was met
    late: list[str] = field(default_factory=list)   # stages fed back after their (extended) deadline
    evaluation: str | None = None                   # last callback's 客户评价
    appeal: Facts | None = None                     # last appeal: {"ruling", "new_class", "unit"}
    major_points: float | None = None               # 考核分值 written on the feedback (wins over the policy)
    notes: list[str] = field(default_factory=list)  # what the clerk should know about the last form (提示)
    recurring: dict[str, Recurring] = field(default_factory=dict)  # recurring stage -> its occurrences

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "deadlines": self.deadlines.to_json(self.deadlines.stages()),
                "met": {stage: _iso(moment) for stage, moment in self.met.items()},
                "recurring": {key: value.to_json() for key, value in self.recurring.items()}}

    @classmethod
    def from_json(cls, data: Facts) -> "CaseState":
        """The state as the journal keeps it (to_json), typed again: deadlines and met moments as datetimes.
        A state written before a field existed takes the field's default."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["deadlines"] = Deadlines.from_json(data["deadlines"])
        values["met"] = {stage: _dt(moment) for stage, moment in data.get("met", {}).items()}
        values["recurring"] = {k: Recurring.from_json(v) for k, v in data.get("recurring", {}).items()}
        return cls(**values)

    def _missed(self, stage: str, as_of: datetime) -> list[tuple[str, datetime]]:
        """A recurring stage's occurrences missed by as_of: [("progress#2", due), …]."""
        return [(f"{stage}#{n}", when) for n, when, hit in self.recurring[stage].occurrences(as_of)
                if hit is None and when < as_of]

    def late_stages(self, as_of: datetime, stages: Iterable[str]) -> list[tuple[str, datetime, datetime | None]]:
        """[(stage, due, met)] for every stage of `stages` fed back after its deadline, or still missing at
        as_of; a recurring stage, each occurrence missed."""
        late: list[tuple[str, datetime, datetime | None]] = []
        for stage in stages:
            due, met = self.deadlines.get(stage), self.met.get(stage)
            if stage in self.recurring:
                late += [(key, when, None) for key, when in self._missed(stage, as_of)]
            elif due and (stage in self.late or (not met and due < as_of)):
                late.append((stage, due, met))
        return late

    def overdue(self, as_of: datetime, stages: Iterable[str]) -> list[tuple[str, datetime]]:
        """[(stage, due)] of `stages` not met whose deadline passed before as_of, in the order given; a
        recurring stage, each occurrence missed."""
        found: list[tuple[str, datetime]] = []
        for stage in stages:
            due = self.deadlines.get(stage)
            if stage in self.recurring:
                found += self._missed(stage, as_of)
            elif due and stage not in self.met and due < as_of:
                found.append((stage, due))
        return found


def _staff_reasons(facts: Facts) -> list[str]:
    return [f"规则{n}：{SEED_RULES[n]}" for n in facts.get("major_rules") or []]


def derive(case: Facts, files: list[Facts], policy: Policy) -> CaseState:
    """`case`: the journal row (facts = the latest intake's values, auto = rules 8/9);
    `files`: the case's accepted forms in arrival order, each {kind, facts, arrived_at}."""
    facts, auto = case["facts"], case["auto"]
    replay = _Replay(DeadlineRules(policy), facts, auto)
    for entry in files:
        replay.step(entry)
    replay.finish()
    staff_tier = replay.staff_tier()
    responsibility = replay.responsibility()
    staff_major = policy.is_major(staff_tier)
    suspected = bool(auto) and not staff_major and responsibility is None
    major = not staff_major and bool(auto) and responsibility == "责任"
    met = {stage: moment for stage, moment in replay.met.items() if policy.stage(stage)}
    return CaseState(case["number"], replay.status, policy.major_tier if major else staff_tier, suspected,
                     _staff_reasons(facts) + [auto[k]["text"] for k in sorted(auto)], responsibility,
                     _unit(policy, replay.feedback.get("unit"), facts.get("unit")), replay.deadlines, met,
                     replay.late, replay.evaluation, replay.appeal, replay.feedback.get("major_points"), replay.notes,
                     replay.recurring)


def _unit(policy: Policy, *named: str | None) -> str | None:
    """The case's unit: the first one named (feedback's 责任部门, then intake's 承办单位) that is a unit of the
    policy. Anything else a form says stays in its facts, but no case is addressed or charged to it."""
    return next((unit for unit in named if unit and unit in policy.units), None)


class _Replay:
    """Walk the forms in arrival order: the tier in force at each moment, stages met, extensions,
    reviews, callbacks, reopening, the policy's own stages, and the notes about the form just walked."""
    evaluation: str | None              # the last callback's 客户评价
    judged: datetime | None             # when the final review arrived (the appeal window opens)

    def __init__(self, rules: DeadlineRules, facts: Facts, auto: Facts):
        self.rules, self.policy, self.channel_class = rules, rules.policy, facts["channel_class"]
        self.received, self.required = _dt(facts["received_at"]), _date(facts.get("required_date"))
        self.intake_tier: str = facts.get("severity") or self.policy.minor_tier
        self.suspected_at = min((_dt(reason["since"]) for reason in auto.values()), default=None)
        self.feedback: Facts = {}           # the latest feedback so far
        self.appeal: Facts | None = None    # the latest ruling so far
        self.met: dict[str, datetime] = {}
        self.late: list[str] = []
        self.notes: list[str] = []
        self.events: dict[str, datetime] = {"received": self.received}   # first moment of each event
        self.recurring: dict[str, Recurring] = {}
        self.status, self.evaluation, self.judged = "待调查", None, None
        self.deadlines = rules.intake(self.channel_class, self.intake_tier, self.received, self.required)
        # stage -> (start, tier -> due from start): how to recompute an open stage when 重大 applies
        self.basis: dict[str, tuple[datetime, DueFrom]] = {
            stage: (self.received, self._intake_due(stage)) for stage in self._chained()}
        if self.suspected_at and not self.policy.is_major(self.intake_tier):
            self._raise(self.suspected_at)
        self._open_generic()

    def _intake_due(self, stage: str) -> DueFrom:
        return lambda tier, start: self.rules.intake(self.channel_class, tier, start, self.required).get(stage)

    def _chained(self) -> list[str]:
        """The stages known from receipt: counted from it, or from such a stage's deadline."""
        chained: list[str] = []
        for stage in self.policy.stages:
            if stage.recurring is None and (stage.start == "received" or stage.start[6:] in chained):
                chained.append(stage.key)
        return chained

    # --- tier ----------------------------------------------------------------------------------
    def _ruled_class(self) -> str | None:
        return self.appeal["new_class"] if self.appeal and self.appeal["ruling"] == "变更" else None

    def _minor(self) -> str:
        return self.policy.minor_tier if self.policy.is_major(self.intake_tier) else self.intake_tier

    def staff_tier(self) -> str:
        """The staff's judgement: a ruling replaces the judgement appealed; else a major tier of the intake
        or of the latest feedback; else the intake's tier."""
        ruled = self._ruled_class()
        if ruled:
            return self.policy.major_tier if ruled == "重大" else self._minor()
        judged: list[str] = [self.intake_tier, self.feedback.get("severity") or self.intake_tier]
        return next((tier for tier in judged if self.policy.is_major(tier)), self.intake_tier)

    def responsibility(self) -> str | None:
        ruled = self._ruled_class()
        if ruled:
            return "非责任" if ruled == "非责任" else "责任"
        return self.feedback.get("responsibility")

    def severity_at(self, moment: datetime) -> str:
        """For deadlines: staff judgement, or rules 8/9 suspected by then and not cleared by 非责任."""
        staff = self.staff_tier()
        if self.policy.is_major(staff):
            return staff
        suspected = self.suspected_at is not None and self.suspected_at <= moment \
            and self.responsibility() != "非责任"
        return self.policy.major_tier if suspected else staff

    def _raise(self, moment: datetime) -> None:
        """A major tier applies from `moment`: open stages take its limits from then, never later."""
        tier = self.severity_at(moment)
        for stage, (start, due_from) in self.basis.items():
            due = self.deadlines.get(stage)
            major = due_from(tier, max(start, moment))
            if due and major and stage not in self.met:
                self.deadlines.set(stage, min(due, major))

    def _judge(self, moment: datetime, change: Callable[[], None]) -> None:
        """Apply a new judgement (feedback, ruling) given at `moment`."""
        before = self.severity_at(moment)
        change()
        if not self.policy.is_major(before) and self.policy.is_major(self.severity_at(moment)):
            self._raise(moment)

    def _schedule(self, stage: str, start: datetime, due_from: DueFrom) -> None:
        """(Re)open a tier-bound stage counted from `start`."""
        self.basis[stage] = (start, due_from)
        self.deadlines.set(stage, due_from(self.severity_at(start), start))
        self.met.pop(stage, None)

    def _fix(self, stage: str, due: datetime | None) -> None:
        """Set a deadline that no longer follows the tier (an approved date, a promised date)."""
        self.basis.pop(stage, None)
        self.deadlines.set(stage, due)

    # --- stages -------------------------------------------------------------------------------
    def _meet(self, stage: str, moment: datetime) -> None:
        """A stage fed back: lateness is judged against the deadline in force at that moment."""
        if stage in self.met:
            return
        self.met[stage] = moment
        due = self.deadlines.get(stage)
        if due and moment > due and stage not in self.late:
            self.late.append(stage)
            self.notes.append(f"{self.policy.stage_name(stage)}逾期：时限 {_when(due)}，反馈日期 {_when(moment)}，"
                              f"超出 {overrun(moment - due)}，计入考核（办法10.1备注）。")

    def _is_open(self, stage: str) -> bool:
        return self.deadlines.get(stage) is not None and stage not in self.met

    def _due_from(self, stage: str) -> DueFrom:
        return lambda tier, start: self.rules.due(self.channel_class, tier, stage, start)

    def _callback_from(self, handled: datetime) -> None:
        self._schedule("callback", handled, self._due_from("callback"))

    def _second_callback(self) -> None:
        """Seed 6.1: the callback after a plan is due one natural day after the promised date — when the
        policy gives the callback a limit at all (seed 004 writes none: no second deadline either)."""
        promised = self.deadlines.promise
        if promised and self.rules.limit(self.channel_class, self.severity_at(promised), "callback") is not None:
            self._fix("callback", self.deadlines.second_callback)
        self.met.pop("callback", None)

    # --- the policy's own stages ----------------------------------------------------------------
    def _origin(self, stage: Stage) -> datetime | None:
        kind, _, ref = stage.start.partition(":")
        if kind == "stage":
            return self.deadlines.get(ref)
        return self.events.get(ref if kind == "event" else "received")

    def _open_generic(self) -> None:
        """Schedule each of the policy's own stages whose start is now known (once)."""
        for stage in self.policy.stages:
            origin = self._origin(stage)
            if stage.builtin or origin is None or stage.key in self.basis or stage.key in self.recurring:
                continue
            if stage.recurring:
                first = self.rules.due(self.channel_class, self.severity_at(origin), stage.key, origin)
                if first is not None:
                    self.recurring[stage.key] = Recurring(first, stage.recurring)
            elif stage.key not in self.deadlines.extra:      # counted from an event or an event's stage
                self._schedule(stage.key, origin, self._due_from(stage.key))

    def _generic(self, kind: str, values: Facts) -> None:
        """The form meets the policy's own stages it is named for; its dates are events."""
        for key in KIND_BY_KEY[kind].date_fields:
            if values.get(key):
                self.events.setdefault(f"{kind}.{key}", _dt(values[key]))
        for stage in self.policy.stages:
            if stage.builtin or stage.met_by is None:
                continue
            by, date_field = stage.met_by
            moment = self.events.get(date_field) if by == "event" else \
                _dt(values[date_field]) if by == kind and values.get(date_field) else None
            if moment is None:
                continue
            if stage.key in self.recurring:
                self.recurring[stage.key].reports.append(moment)
            elif self._is_open(stage.key) and moment >= (self._origin_moment(stage) or moment):
                self._meet(stage.key, moment)
        self._open_generic()

    def _origin_moment(self, stage: Stage) -> datetime | None:
        return self.basis[stage.key][0] if stage.key in self.basis else None

    def finish(self) -> None:
        """A recurring stage is owed until the result is fed back: its deadline is the first occurrence
        not met, and it is met once every occurrence owed was."""
        for key, recurring in self.recurring.items():
            recurring.until = self.events.get("handled")
            pending = recurring.pending()
            self.deadlines.set(key, pending or recurring.first)
            if pending is None:
                self.met[key] = max(recurring.reports, default=recurring.first)

    # --- forms --------------------------------------------------------------------------------
    def step(self, entry: Facts) -> None:
        self.notes = []
        step = KIND_BY_KEY[entry["kind"]].case_step
        if step:
            getattr(self, f"_{step}")(entry["facts"], _dt(entry["arrived_at"]))
        self._generic(entry["kind"], entry["facts"])

    def _intake(self, values: Facts, arrived: datetime) -> None:
        for stage in self.policy.unit_stages:
            due = self.deadlines.get(stage)
            if due and due < arrived and stage not in self.met:
                self.notes.append(f"登记时{self.policy.stage_name(stage)}时限（{_when(due)}）已过：该环节将计为超时，"
                                  f"请承办单位尽快反馈。")

    def _feedback(self, values: Facts, arrived: datetime) -> None:
        fed_back = _dt(values["feedback_date"])
        self._judge(fed_back, lambda: setattr(self, "feedback", values))
        self._meet("investigation", fed_back)
        reviewed = bool(values.get("final_review"))
        if reviewed and self.judged is None:
            self.judged = arrived
            self.events["judged"] = arrived
            self.deadlines.appeal = self.rules.appeal(self.channel_class, self.severity_at(arrived), arrived)
        first = "handling" not in self.met
        handling = self.policy.stage("handling")
        if values.get("completion") == "已办结" or not (handling and handling.met_by == ("event", "handled")):
            self._meet("handling", fed_back)        # a plan on time meets 处理反馈 as well (附件1 说明2), unless
        if values.get("completion") != "已办结":     # the policy's 处理反馈 is met by the result alone (003)
            promised = _date(values.get("promised_date"))
            if first and promised:                   # a new plan opens 承诺办结
                if self.policy.stage("promise"):
                    self.deadlines.promise = self.rules.promise(promised)
                self.met.pop("promise", None)
                self._callback_from(fed_back)        # the first callback, about the plan
            self.status = "处理中" if reviewed else "待审核"
            return
        self.events.setdefault("handled", fed_back)
        if first or not self.policy.stage("promise"):   # without a promise stage the result's callback follows it
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
                           lambda tier, start: self.rules.reopened(self.channel_class, tier, start))
            if self._is_open("promise"):
                self.deadlines.promise = None
            self._fix("callback", None)
            self.met.pop("callback", None)
            self.status = "重新处理"
        elif self._is_open("promise"):               # the plan's callback; the second follows the promise
            self._second_callback()
        else:
            self.met["callback"] = called
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
        for stage in self.policy.unit_stages:
            due = self.deadlines.get(stage)
            if due is None or stage in self.met or stage in self.recurring:     # a report is owed every period
                continue
            if due < arrived:
                passed.append(f"{self.policy.stage_name(stage)}（{_when(due)}）")
            elif extended > due:
                self._fix(stage, extended)
                moved.append(self.policy.stage_name(stage))
        if moved:
            self.notes.append(f"已延期至 {_when(extended)}：{'、'.join(moved)}。")
        if passed:
            self.notes.append(f"延期申请送达时（{_when(arrived)}）{'、'.join(passed)}时限已过：该环节不予延期，"
                              f"仍计为超时。")

    def _appeal(self, values: Facts, arrived: datetime) -> None:
        if values.get("ruling"):
            self._judge(arrived, lambda: setattr(self, "appeal", {k: values.get(k)
                                                                  for k in ("ruling", "new_class", "unit")}))
