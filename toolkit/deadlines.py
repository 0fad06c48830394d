"""The 附件3 table applied: (deadline class, severity, stage) -> due moment.
Adopted reading (SPEC §5): day 0 is the date of 受理时间; "N days" ends at end_of_day of day N;
处理反馈 follows 调查反馈; 回访 counts from the handling feedback; 申诉 from the judgement."""
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from .calendar import WorkCalendar
from .policy import REQUIRED_DATE, Policy

STAGE_NAMES = {"investigation": "调查反馈", "handling": "处理反馈", "callback": "回访", "appeal": "申诉"}
SECOND_CALLBACK_DAYS = 1  # seed 6.1: 承诺办结时限后 1 个自然日内第二次回访


@dataclass
class Deadlines:
    investigation: datetime | None = None
    handling: datetime | None = None
    callback: datetime | None = None
    appeal: datetime | None = None

    def to_json(self) -> dict:
        return {k: (v.isoformat(timespec="seconds") if v else None) for k, v in asdict(self).items()}


class DeadlineRules:
    def __init__(self, policy: Policy, calendar: WorkCalendar | None = None):
        self.policy = policy
        self.calendar = calendar or WorkCalendar.from_policy(policy)

    def after(self, start: datetime, limit, required: date | None) -> datetime | None:
        if limit == REQUIRED_DATE:
            return datetime.combine(required, self.policy.end_of_day) if required else None
        if isinstance(limit, timedelta):
            return start + limit
        return datetime.combine(self.calendar.add_days(start.date(), limit), self.policy.end_of_day)

    def intake(self, channel_class: str, severity: str, received: datetime,
               required: date | None = None) -> Deadlines:
        """Investigation and handling deadlines, known from the moment of receipt."""
        limit = lambda stage: self.policy.limit(channel_class, severity, stage)  # noqa: E731
        investigation = self.after(received, limit("investigation"), required)
        handling = (self.after(investigation, limit("handling"), required)
                    if investigation else None)
        return Deadlines(investigation, handling)

    def callback(self, channel_class: str, severity: str, handled: datetime) -> datetime:
        return self.after(handled, self.policy.limit(channel_class, severity, "callback"), None)

    def second_callback(self, promised: date) -> datetime:
        return datetime.combine(promised + timedelta(days=SECOND_CALLBACK_DAYS), self.policy.end_of_day)

    def appeal(self, channel_class: str, severity: str, judged: datetime) -> datetime:
        return self.after(judged, self.policy.limit(channel_class, severity, "appeal"), None)
