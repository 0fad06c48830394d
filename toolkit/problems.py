"""A located problem: what is wrong, in which field, at which cell, and how to fix it."""
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    level: str      # "error" (blocks the form) or "defect" (accepted, counted against 信息维护合格率)
    field: str      # the field's label as printed on the form, or "文件"
    cell: str       # "D5", "Sheet2!D5", "表1 第3行第2列", or "" when not located
    message: str    # Chinese: what is wrong and how to fix it

    def to_json(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        where = f"（{self.cell}）" if self.cell else ""
        return f"【{self.field}】{where}{self.message}"


def error(field: str, cell: str, message: str) -> Problem:
    return Problem("error", field, cell, message)


def defect(field: str, cell: str, message: str) -> Problem:
    return Problem("defect", field, cell, message)
