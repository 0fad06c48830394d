"""Complaint numbers from the policy pattern, e.g. TS{YYYY}{MM}{seq:04d}. The sequence runs
within everything else the pattern prints (per month for the default). Issuing happens inside a
journal transaction (see journal.Journal.issue_number), so a number is never issued twice."""
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

_FIELD = re.compile(r"\{(YYYY|YY|MM|DD|seq)(?::0?(\d+)d)?\}")


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
