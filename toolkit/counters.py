"""The archive's own counters (archive/.counters.json): per number sequence the highest number ever
issued, and the highest arrival order. They are written (fsync) inside the journal transaction, before
the number is committed and returned, so a lost, damaged or rebuilt journal can never issue a number
again. They only ever grow: a value lower than what the journal or the archive shows is raised."""
import json
from dataclasses import dataclass, field
from pathlib import Path

from .files import write_atomically

FILE_NAME = ".counters.json"


@dataclass
class Counters:
    order: int = 0
    sequences: dict = field(default_factory=dict)      # period ("TS202611*") -> highest seq

    def covers(self, other: "Counters") -> bool:
        """Whether these counters are at or past `other` everywhere."""
        return self.order >= other.order and all(self.sequences.get(p, 0) >= s for p, s in other.sequences.items())

    def raise_to(self, other: "Counters") -> None:
        self.order = max(self.order, other.order)
        for period, seq in other.sequences.items():
            self.sequences[period] = max(self.sequences.get(period, 0), seq)

    def to_json(self) -> dict:
        return {"order": self.order, "sequences": dict(sorted(self.sequences.items()))}

    @classmethod
    def from_json(cls, data: dict) -> "Counters":
        return cls(int(data.get("order", 0)), {str(k): int(v) for k, v in dict(data.get("sequences", {})).items()})


def counters_path(archive: Path) -> Path:
    return archive / FILE_NAME


def read_counters(archive: Path) -> Counters | None:
    """The archive's counters; None when the file is missing or unreadable (a rebuild recounts)."""
    try:
        return Counters.from_json(json.loads(counters_path(archive).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def write_counters(archive: Path, counters: Counters) -> None:
    write_atomically(counters_path(archive), json.dumps(counters.to_json(), ensure_ascii=False).encode("utf-8"))
