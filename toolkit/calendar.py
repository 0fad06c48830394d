"""Natural and working-day arithmetic. Working days come from the `chinesecalendar` package
(statutory holidays and 调休 make-up days) plus the policy's [calendar] overrides. A year neither
knows is a CalendarError that names the year and how to fix it — never a silent guess."""
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

from .errors import CalendarError
from .policy import Policy


@dataclass(frozen=True)
class WorkCalendar:
    mode: str = "natural"
    holidays: frozenset = frozenset()
    workdays: frozenset = frozenset()
    years: frozenset = frozenset()

    @classmethod
    def from_policy(cls, policy: Policy) -> "WorkCalendar":
        return cls(policy.calendar_mode, policy.extra_holidays, policy.extra_workdays,
                   policy.complete_years)

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if day.year in self.years:
            return day.weekday() < 5
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            raise CalendarError(
                f"工作日历不认识 {day.year} 年（{day.isoformat()}）的节假日安排，无法按工作日计算时限。"
                f"请升级日历组件（pip install -U chinesecalendar），或在 policy.toml 的 [calendar] 中"
                f"列出 {day.year} 年的 holidays（放假日）与 workdays（调休上班日），"
                f"并把 {day.year} 加入 years。") from None

    def add_days(self, start: date, days: int) -> date:
        """The date `days` days after `start` (day 0); working mode counts working days only."""
        if self.mode == "natural":
            return start + timedelta(days=days)
        current, counted = start, 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_workday(current):
                counted += 1
        return current
