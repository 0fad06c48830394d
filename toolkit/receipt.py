"""What processing a file produced: one Receipt, rendered as the JSON of SPEC §10 or as the
Chinese text a clerk reads (the CLI summary and receipts/<name>.回执.txt)."""
from dataclasses import dataclass, field

from .deadlines import STAGE_NAMES, Deadlines
from .forms.kinds import KIND_BY_KEY

STATUS_TEXT = {"accepted": "已受理", "refused": "已拒收", "duplicate": "重复提交（已有记录，未重复编号）"}
STAGE_TEXT = {stage: f"{name}时限" for stage, name in STAGE_NAMES.items()}    # the default policy's


@dataclass
class Receipt:
    file: str
    status: str                              # accepted | refused | duplicate
    form: str | None = None
    number: str | None = None
    severity: str | None = None
    suspected_major: bool = False
    major_reasons: list = field(default_factory=list)
    deadlines: Deadlines = field(default_factory=Deadlines)
    problems: list = field(default_factory=list)
    archived: str | None = None              # archive path relative to the workspace
    case_status: str | None = None           # the case's status after this form (text only, not in JSON)
    number_cell: str | None = None           # where the form carries its 投诉编号 (for writing it back)
    resumed: bool = False                    # a duplicate of itself: the same file, accepted before a crash
    submission: str | None = None            # the submission id (receipt file names, provenance)
    checked: bool = False                    # `tousu check`: validated only, nothing registered or numbered
    warnings: list = field(default_factory=list)   # what the clerk should know (Chinese sentences, 提示)
    stage_names: dict = field(default_factory=lambda: dict(STAGE_NAMES))   # the policy's (Policy.stage_names)

    @property
    def ok(self) -> bool:
        return self.status != "refused"

    def to_json(self) -> dict:
        return {"file": self.file, "status": self.status, "form": self.form, "number": self.number,
                "severity": self.severity, "suspected_major": self.suspected_major,
                "major_reasons": list(self.major_reasons), "deadlines": self.deadlines.to_json(),
                "problems": [p.to_json() for p in self.problems], "warnings": list(self.warnings)}

    def _result(self) -> str:
        if self.checked:
            return "校验通过（仅校验，未登记、未编号）" if self.ok else "校验未通过（仅校验，未登记）"
        return STATUS_TEXT[self.status]

    def describe(self) -> str:
        lines = [f"文件：{self.file}", f"结果：{self._result()}"]
        if self.form:
            lines.append(f"表单：{KIND_BY_KEY[self.form].title if self.form in KIND_BY_KEY else self.form}")
        if self.number:
            lines.append(f"投诉编号：{self.number}")
        if self.case_status:
            lines.append(f"案件状态：{self.case_status}")
        if self.severity:
            suspected = "（疑似重大，按重大投诉时限办理）" if self.suspected_major else ""
            lines.append(f"投诉性质：{self.severity}{suspected}")
        if self.major_reasons:
            lines.append(f"重大依据：{'；'.join(self.major_reasons)}")
        for stage, due in self.deadlines.to_json([*self.stage_names, *self.deadlines.extra]).items():
            if due:
                lines.append(f"{self.stage_names.get(stage, stage)}时限：{due.replace('T', ' ')} 前")
        if self.deadlines.promise and self.deadlines.callback:     # a policy without a callback limit has none
            lines.append(f"第二次回访时限：{self.deadlines.second_callback:%Y-%m-%d %H:%M:%S} 前（办法6.1）")
        if self.archived:
            lines.append(f"归档位置：{self.archived}")
        errors = [p.describe() for p in self.problems if p.level == "error"]
        others = [p.describe() for p in self.problems if p.level != "error"]
        sections = (("拒收原因（请修改后重新放入）：", errors),
                    ("其他问题（重新提交前请一并补正）：" if errors else
                     "填写缺陷（已受理，但计入信息维护合格率，请补正）：", others),
                    ("提示：", self.warnings))
        for heading, items in sections:
            if items:
                lines.append(heading)
                lines += [f"  {i}. {text}" for i, text in enumerate(items, 1)]
        return "\n".join(lines)
