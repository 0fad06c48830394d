"""A reporting month: "YYYY-MM" <-> its first moment and the moment after its end."""
from datetime import datetime

from .errors import ToolkitError


class BadMonth(ToolkitError):
    pass


def month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise BadMonth(f"月份「{month}」格式不对，请写成 YYYY-MM（如 2026-11）。") from None
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def previous_months(month: str, count: int) -> list[str]:
    """The `count` months ending with `month`, oldest first."""
    year, mon = map(int, month.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out[::-1]
