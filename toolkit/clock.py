"""Time is Asia/Shanghai whatever the machine's zone. All code asks a Clock for "now";
tests inject a fixed one, and the CLI honours TOUSU_NOW (ISO 8601 local) for reproducible runs."""
import os
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def local_now() -> datetime:
    """Current wall-clock time in Asia/Shanghai, as a naive local datetime."""
    return datetime.now(LOCAL_ZONE).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Clock:
    fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else local_now()

    @classmethod
    def from_env(cls) -> "Clock":
        value = os.environ.get("TOUSU_NOW")
        return cls(datetime.fromisoformat(value)) if value else cls()
