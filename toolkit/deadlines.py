"""The 附件3 table applied: (deadline class, tier, stage) -> due moment, for the stages the policy names.
Adopted reading (SPEC §5): day 0 is the date of 受理时间; "N days" ends at end_of_day of day N; a stage
"from" another counts from that stage's deadline (处理反馈 follows 调查反馈); 回访 counts from the handling
feedback; 申诉 from the judgement; a class whose limit is "要求办结日期" uses the limits of the policy's
fallback_class when the form has no date; 承诺办结 is the end of the promised completion date, and the
second callback (seed 6.1) one natural day after it. A recurring stage (seed 003: a progress report every
24 h) is due first at its limit and then every period, until the result is fed back."""
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from .calendar import WorkCalendar
from .policy import REQUIRED_DATE, Limit, NaturalDays, Policy, load_policy

DEFAULT = load_policy()           # templates/policy.toml, parsed once for every module that needs it
# The default policy's stage names and the stages the unit owes there.
STAGE_NAMES = DEFAULT.stage_names
UNIT_STAGES = DEFAULT.unit_stages
# The keys of the "deadlines" object of SPEC §10 (receipts, `tousu due`), before the policy's own stages.
SPEC_STAGES = ("investigation", "handling", "callback", "appeal")
SECOND_CALLBACK = timedelta(days=1)  # seed 6.1: 承诺办结时限后 1 个自然日内第二次回访


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


@dataclass
class Deadlines:
    investigation: datetime | None = None
    handling: datetime | None = None
    promise: datetime | None = None
    callback: datetime | None = None
    appeal: datetime | None = None
    extra: dict[str, datetime | None] = field(default_factory=dict)   # the policy's own stages

    @property
    def second_callback(self) -> datetime | None:
        return self.promise + SECOND_CALLBACK if self.promise else None

    def get(self, stage: str) -> datetime | None:
        return getattr(self, stage) if stage in BUILTIN else self.extra.get(stage)

    def set(self, stage: str, due: datetime | None) -> None:
        if stage in BUILTIN:
            setattr(self, stage, due)
        else:
            self.extra[stage] = due

    def stages(self) -> list[str]:
        """Every stage held: the built-in ones, then the policy's own."""
        return [*BUILTIN, *self.extra]

    def to_json(self, stages: Iterable[str] | None = None) -> dict[str, str | None]:
        """ISO text per stage; by default the keys of SPEC §10 and then the policy's own stages."""
        keys = (*SPEC_STAGES, *self.extra) if stages is None else stages
        return {k: _iso(self.get(k)) for k in keys}

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> "Deadlines":
        deadlines = cls()
        for key, value in data.items():
            deadlines.set(key, datetime.fromisoformat(value) if value else None)
        return deadlines


BUILTIN = tuple(f.name for f in fields(Deadlines) if f.name != "extra")


@dataclass
class Recurring:
    """A recurring stage's occurrences: occurrence n is due at first + (n-1) × every, met by a report
    dated within the period before it; none is owed after `until` (the result fed back)."""
    first: datetime
    every: timedelta
    reports: list[datetime] = field(default_factory=list)
    until: datetime | None = None

    def occurrences(self, as_of: datetime) -> list[tuple[int, datetime, datetime | None]]:
        """(n, due, met) for every occurrence begun before `as_of` and owed (due by `until`)."""
        found: list[tuple[int, datetime, datetime | None]] = []
        n = 1
        while True:
            due = self.first + (n - 1) * self.every
            if due - self.every >= as_of or (self.until is not None and due > self.until):
                return found
            met = min((r for r in self.reports if due - self.every < r <= due), default=None)
            found.append((n, due, met))
            n += 1

    def pending(self) -> datetime | None:
        """The first occurrence not met (its due moment), whether passed or still to come; None when
        every occurrence owed before `until` was met."""
        n = 1
        while True:
            due = self.first + (n - 1) * self.every
            if self.until is not None and due > self.until:
                return None
            if not any(due - self.every < r <= due for r in self.reports):
                return due
            n += 1

    def to_json(self) -> dict[str, Any]:
        return {"first": _iso(self.first), "every": self.every.total_seconds(),
                "reports": [_iso(r) for r in self.reports], "until": _iso(self.until)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Recurring":
        return cls(datetime.fromisoformat(data["first"]), timedelta(seconds=data["every"]),
                   [datetime.fromisoformat(r) for r in data["reports"]],
                   datetime.fromisoformat(data["until"]) if data["until"] else None)


class DeadlineRules:
    def __init__(self, policy: Policy, calendar: WorkCalendar | None = None):
        self.policy = policy
        self.calendar = calendar or WorkCalendar.from_policy(policy)

    def limit(self, channel_class: str, tier: str, stage: str, required: date | None = None) -> Limit | None:
        """The 附件3 limit; "要求办结日期" without a date falls back to the policy's fallback_class; None
        when the stage does not apply to the tier (or the policy has no such stage)."""
        limit = self.policy.limit(channel_class, tier, stage)
        if limit == REQUIRED_DATE and required is None:
            limit = self.policy.limit(self.policy.fallback_class, tier, stage)
        return limit

    def after(self, start: datetime, limit: Limit, required: date | None = None) -> datetime:
        if isinstance(limit, str):              # REQUIRED_DATE, which limit() keeps only with a date
            assert required is not None
            return datetime.combine(required, self.policy.end_of_day)
        if isinstance(limit, timedelta):
            return start + limit
        if isinstance(limit, NaturalDays):
            return datetime.combine(start.date() + timedelta(days=limit.days), self.policy.end_of_day)
        return datetime.combine(self.calendar.add_days(start.date(), limit), self.policy.end_of_day)

    def due(self, channel_class: str, tier: str, stage: str, start: datetime,
            required: date | None = None) -> datetime | None:
        """A stage's due moment counted from `start`; None when it has no limit for the tier."""
        limit = self.limit(channel_class, tier, stage, required)
        return None if limit is None else self.after(start, limit, required)

    def intake(self, channel_class: str, tier: str, received: datetime,
               required: date | None = None) -> Deadlines:
        """Every stage counted from receipt, or from such a stage's deadline: known from the moment of receipt."""
        deadlines = Deadlines()
        for stage in self.policy.stages:
            origin = received if stage.start == "received" else \
                deadlines.get(stage.start[6:]) if stage.start.startswith("stage:") else None
            if origin is not None:
                deadlines.set(stage.key, self.due(channel_class, tier, stage.key, origin, required))
        return deadlines

    def reopened(self, channel_class: str, tier: str, called: datetime) -> datetime | None:
        """Handling again after an unsatisfied callback (seed 6.3), counted from the callback."""
        return self.due(channel_class, tier, "handling", called)

    def callback(self, channel_class: str, tier: str, handled: datetime) -> datetime | None:
        return self.due(channel_class, tier, "callback", handled)

    def promise(self, promised: date) -> datetime:
        return datetime.combine(promised, self.policy.end_of_day)

    def appeal(self, channel_class: str, tier: str, judged: datetime) -> datetime | None:
        return self.due(channel_class, tier, "appeal", judged)
