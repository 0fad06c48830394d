"""The 附件3 table applied: (deadline class, severity, stage) -> due moment.
Adopted reading (SPEC §5): day 0 is the date of 受理时间; "N days" ends at end_of_day of day N;
处理反馈 follows 调查反馈; 回访 counts from the handling feedback; 申诉 from the judgement; a class
whose limit is "要求办结日期" uses the limits of the policy's fallback_class when the form has no date;
承诺办结 is the end of the promised completion date, and the second callback (seed 6.1) one natural
day after it."""
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import partial

from .calendar import WorkCalendar
from .policy import REQUIRED_DATE, Policy

STAGE_NAMES = {"investigation": "调查反馈", "handling": "处理反馈", "promise": "承诺办结", "callback": "回访",
               "appeal": "申诉"}
# Stages the unit owes the office: supervised by notices and charged as late (the callback is the
# office's own work, the appeal a window, not an obligation).
UNIT_STAGES = tuple(stage for stage in STAGE_NAMES if stage not in ("callback", "appeal"))
# The keys of the "deadlines" object of SPEC §10 (receipts, `tousu due`).
SPEC_STAGES = ("investigation", "handling", "callback", "appeal")
# A 附件3 limit as policy.parse_limit gives it: working days, a duration, or REQUIRED_DATE.
Limit = int | timedelta | str
SECOND_CALLBACK = timedelta(days=1)  # seed 6.1: 承诺办结时限后 1 个自然日内第二次回访


@dataclass
class Deadlines:
    investigation: datetime | None = None
    handling: datetime | None = None
    promise: datetime | None = None
    callback: datetime | None = None
    appeal: datetime | None = None

    @property
    def second_callback(self) -> datetime | None:
        return self.promise + SECOND_CALLBACK if self.promise else None

    def to_json(self, stages: Iterable[str] = SPEC_STAGES) -> dict[str, str | None]:
        """ISO text per stage; by default the keys of SPEC §10, `STAGE_NAMES` for every stage."""
        values = asdict(self)
        return {k: (values[k].isoformat(timespec="seconds") if values[k] else None) for k in stages}

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> "Deadlines":
        return cls(**{k: datetime.fromisoformat(v) if v else None for k, v in data.items()})


class DeadlineRules:
    def __init__(self, policy: Policy, calendar: WorkCalendar | None = None):
        self.policy = policy
        self.calendar = calendar or WorkCalendar.from_policy(policy)

    def limit(self, channel_class: str, severity: str, stage: str, required: date | None = None) -> Limit:
        """The 附件3 limit; "要求办结日期" without a date falls back to the policy's fallback_class."""
        limit: Limit = self.policy.limit(channel_class, severity, stage)
        if limit == REQUIRED_DATE and required is None:
            limit = self.policy.limit(self.policy.fallback_class, severity, stage)
        return limit

    def after(self, start: datetime, limit: Limit, required: date | None = None) -> datetime:
        if isinstance(limit, str):              # REQUIRED_DATE, which limit() keeps only with a date
            assert required is not None
            return datetime.combine(required, self.policy.end_of_day)
        if isinstance(limit, timedelta):
            return start + limit
        return datetime.combine(self.calendar.add_days(start.date(), limit), self.policy.end_of_day)

    def intake(self, channel_class: str, severity: str, received: datetime,
               required: date | None = None) -> Deadlines:
        """Investigation and handling deadlines, known from the moment of receipt."""
        limit = partial(self.limit, channel_class, severity, required=required)
        investigation = self.after(received, limit("investigation"), required)
        return Deadlines(investigation, self.after(investigation, limit("handling"), required))

    def reopened(self, channel_class: str, severity: str, called: datetime) -> datetime:
        """Handling again after an unsatisfied callback (seed 6.3), counted from the callback."""
        return self.after(called, self.limit(channel_class, severity, "handling"))

    def callback(self, channel_class: str, severity: str, handled: datetime) -> datetime:
        return self.after(handled, self.limit(channel_class, severity, "callback"))

    def promise(self, promised: date) -> datetime:
        return datetime.combine(promised, self.policy.end_of_day)

    def appeal(self, channel_class: str, severity: str, judged: datetime) -> datetime:
        return self.after(judged, self.limit(channel_class, severity, "appeal"))
