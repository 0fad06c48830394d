"""Complaint numbers from the policy pattern, e.g. TS{YYYY}{MM}{seq:04d}. The sequence runs
within everything else the pattern prints (per month for the default). Issuing happens inside a
journal transaction (see journal.Journal.issue_number), so a number is never issued twice.
`{office}` stands for the office's code (`[office] code`), so the offices of a group sharing one
journal server never print the same number."""
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from .errors import PolicyError

_FIELD = re.compile(r"\{(YYYY|YY|MM|DD|seq)(?::0?(\d+)d)?\}")
OFFICE = "{office}"
OFFICE_CODE = re.compile(r"^[A-Za-z0-9]{0,12}$")


def check_office_code(code: str) -> str:
    if not OFFICE_CODE.match(code):
        raise PolicyError(f"策略键「office.code」取值无效：{code!r}。应为不超过 12 位的英文字母或数字，如 \"SM\"。")
    return code


def office_pattern(pattern: str, code: str) -> str:
    """The number pattern with `{office}` replaced by the office's code."""
    if OFFICE not in pattern:
        return pattern
    if not check_office_code(code):
        raise PolicyError(f"编号格式「{pattern}」含 {OFFICE}，但策略未设置 [office] code（本单位代码）。")
    return pattern.replace(OFFICE, code)


@dataclass(frozen=True)
class NumberPattern:
    pattern: str

    def _parts(self, moment: datetime) -> dict:
        return {"YYYY": f"{moment.year:04d}", "YY": f"{moment.year % 100:02d}",
                "MM": f"{moment.month:02d}", "DD": f"{moment.day:02d}"}

    def format(self, moment: datetime, seq: int) -> str:
        parts = self._parts(moment)

        def put(match):
            if match.group(1) == "seq":
                return f"{seq:0{int(match.group(2) or 1)}d}"
            return parts[match.group(1)]
        return _FIELD.sub(put, self.pattern)

    def period(self, moment: datetime) -> str:
        """The scope of the sequence: the pattern printed without its sequence."""
        return _FIELD.sub(lambda m: "*" if m.group(1) == "seq" else self._parts(moment)[m.group(1)],
                          self.pattern)

    @cached_property
    def regex(self) -> re.Pattern:
        out, last = [], 0
        for match in _FIELD.finditer(self.pattern):
            out.append(re.escape(self.pattern[last:match.start()]))
            name, width = match.group(1), match.group(2)
            if name == "seq":
                out.append(f"(?P<seq>\\d{{{width or 1},}})")
            else:
                out.append(f"(?P<{name}>\\d{{{len(name) if name != 'YYYY' else 4}}})")
            last = match.end()
        out.append(re.escape(self.pattern[last:]))
        return re.compile("^" + "".join(out) + "$")

    def matches(self, number: str) -> bool:
        return bool(self.regex.match(number))

    def split(self, number: str) -> tuple[str, int]:
        """(period, seq) of a well-formed number."""
        match = self.regex.match(number)
        seq = match.group("seq")
        return number[:match.start("seq")] + "*" + number[match.end("seq"):], int(seq)

    def example(self) -> str:
        return self.format(datetime(2026, 11, 1), 1)
