"""One result object per command (pipx's OperationResult pattern): the library returns it, the CLI
renders it once — `lines()` as the Chinese text a clerk reads, `json_lines()` for other systems — and
exits with its `exit_code`. `notes` are hints printed beside either rendering (on stderr)."""
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .deadlines import Deadlines
from .notices import NO_UNIT, Overdue
from .receipt import Receipt
from .report import month_json
from .scoring import PERSON_PENALTIES, UnitScore
from .verify import Finding

Json = dict[str, Any]


def _shown(iso: str) -> str:
    return iso.replace("T", " ")


@dataclass
class Result:
    notes: list[str] = field(default_factory=list, kw_only=True)

    @property
    def exit_code(self) -> int:
        return 0

    def to_json(self) -> Json:
        raise NotImplementedError

    def json_lines(self) -> list[Json]:
        return [self.to_json()]

    def lines(self) -> list[str]:
        raise NotImplementedError


@dataclass
class InitResult(Result):
    root: Path
    journal: Path

    def to_json(self) -> Json:
        return {"workspace": str(self.root), "journal": str(self.journal)}

    def lines(self) -> list[str]:
        return [f"工作区已就绪：{self.root}"]


@dataclass
class ReceiptsResult(Result):
    """`process` and `check`: one receipt per file, one JSON line each; 1 when any file was refused."""
    receipts: list[Receipt]

    @property
    def exit_code(self) -> int:
        return 0 if all(r.ok for r in self.receipts) else 1

    def json_lines(self) -> list[Json]:
        return [r.to_json() for r in self.receipts]

    def lines(self) -> list[str]:
        return [r.describe() + "\n" for r in self.receipts]


@dataclass
class DueResult(Result):
    channel_class: str
    severity: str
    received: datetime
    deadlines: Deadlines
    fallback_class: str | None      # the class whose limits stood in for a missing 要求办结日期
    names: dict[str, str]           # stage key -> the policy's name for it

    def to_json(self) -> Json:
        return {"deadlines": self.deadlines.to_json()}

    def lines(self) -> list[str]:
        lines = [f"渠道类别：{self.channel_class}；投诉性质：{self.severity}；受理时间：{self.received:%Y-%m-%d %H:%M}"]
        if self.fallback_class:
            lines.append(f"提示：未给出要求办结日期（--required-date），已按「{self.fallback_class}」时限计算。")
        in_order = dict.fromkeys([*self.names, *self.deadlines.extra])     # the policy's order of stages
        return lines + [f"{self.names.get(stage, stage)}时限：{_shown(value)} 前"
                        for stage, value in self.deadlines.to_json(in_order).items() if value]


@dataclass
class RebuildResult(Result):
    rebuilt: Any                    # rebuild.Rebuilt: cases, files, refusals, skipped [(path, reason)]
    ledgers: list[str]
    messages: list[str]

    @property
    def exit_code(self) -> int:
        return 1 if self.rebuilt.skipped else 0

    def to_json(self) -> Json:
        r = self.rebuilt
        return {"cases": r.cases, "files": r.files, "refusals": r.refusals,
                "skipped": [{"path": p, "reason": why} for p, why in r.skipped], "ledgers": self.ledgers,
                "messages": self.messages}

    def lines(self) -> list[str]:
        r = self.rebuilt
        return [f"已从归档重建 {r.cases} 件投诉（表单 {r.files} 份，拒收记录 {r.refusals} 份）；"
                f"台帐：{'、'.join(self.ledgers) or '无'}",
                *(f"已跳过：{path}：{why}" for path, why in r.skipped),
                *(f"提示：{message}" for message in self.messages)]


@dataclass
class VerifyResult(Result):
    findings: list[Finding]

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0

    def to_json(self) -> Json:
        return {"ok": not self.findings, "findings": [f.to_json() for f in self.findings]}

    def lines(self) -> list[str]:
        if not self.findings:
            return ["归档、日志、台帐与回执一致。"]
        return [f"发现 {len(self.findings)} 处不一致：", *(f"  {f.path}：{f.problem}" for f in self.findings)]


@dataclass
class ScoreResult(Result):
    month: str
    scores: list[UnitScore]
    sheet: str                      # the 考核明细表, relative to the workspace
    warnings: list[str]

    def to_json(self) -> Json:
        return {"month": self.month, "units": [s.to_json() for s in self.scores], "warnings": self.warnings}

    def lines(self) -> list[str]:
        lines = [f"{self.month} 考核扣分（明细表：{self.sheet}）"]
        for s in self.scores:
            total = f"合计扣 {s.points:g} 分" if s.charged else f"列示 {s.points:g} 分，不计入任何单位"
            lines.append(f"{s.unit}：重大 {s.major} 起，责任 {s.responsible} 起，非责任 {s.non_responsible} 起，"
                         f"超时 {s.late} 起，{total}")
            lines += [f"    {line.number}  {line.points:g} 分  {line.reason}" for line in s.lines]
        lines += [f"提示：{note}" for note in self.warnings]
        lines.append("对投诉主要责任人考核扣罚参考标准（办法10.1，供参考，不自动计算）：")
        return lines + [f"    {level}：{text}" for level, text in PERSON_PENALTIES]


@dataclass
class OverdueResult(Result):
    as_of: datetime
    items: list[Overdue]
    warnings: list[str]

    def to_json(self) -> Json:
        return {"as_of": self.as_of.isoformat(timespec="seconds"), "overdue": [i.to_json() for i in self.items],
                "warnings": self.warnings}

    def lines(self) -> list[str]:
        lines = [f"截至 {self.as_of:%Y-%m-%d %H:%M}，超时未反馈 {len(self.items)} 项："]
        for item in self.items:
            made = "（本次新生成）" if item.new else "（此前已生成）"
            notice = f"  督办单{made}：{item.notice}" if item.notice else ""
            lines.append(f"  {item.number}  {item.name}  时限 {_shown(item.due)}  "
                         f"{item.unit or NO_UNIT}{notice}")
        return lines + [f"提示：{warning}" for warning in self.warnings]


@dataclass
class ReportResult(Result):
    month: str
    path: str                       # the 服务月报, relative to the workspace
    figures: Json                   # report.month_figures

    def to_json(self) -> Json:
        return {"month": self.month, "report": self.path, **month_json(self.figures)}

    def lines(self) -> list[str]:
        lines = [f"服务月报已生成：{self.path}；本月受理 {len(self.figures['cases'])} 件"]
        for name, r in month_json(self.figures)["rates"].items():
            shown = f"{r['rate']:.2%}" if r["rate"] is not None else "—"
            lines.append(f"  {name}：{r['numerator']}/{r['denominator']} = {shown}")
        return lines


@dataclass
class StatusResult(Result):
    info: Json                      # status.workspace_status

    def to_json(self) -> Json:
        return self.info

    def lines(self) -> list[str]:
        info = self.info
        names = f"（{'、'.join(info['pending'])}）" if info["pending"] else ""
        lines = [f"待处理：{len(info['pending'])} 个文件{names}"]
        lines += [f"未能处理（留在收件箱）：{item['file']}：{item['reason']}" for item in info["held"]]
        if info["in_subfolders"]:
            lines.append(f"收件箱子文件夹中的文件不会处理，请移到 inbox/ 下：{'、'.join(info['in_subfolders'])}")
        if info["unfinished"]:
            lines.append(f"处理中断、待完成：{'、'.join(info['unfinished'])}（监视程序启动时自动完成）")
        if info["ledgers_pending"]:
            years = "、".join(map(str, info["ledgers_pending"]))
            lines.append(f"待更新的台帐年份：{years}（下一批次或 tousu ledger rebuild 时更新）")
        lines.append(f"今日：受理 {info['today']['accepted']} 份，拒收 {info['today']['refused']} 份")
        lines += [f"最近拒收：{item['file']}（{_shown(item['at'])}）{item['problem']}"
                  for item in info["recent_refusals"]]
        return lines + [f"最近事件：{_shown(event['at'])} 日志已按归档重建（{event.get('cases', 0)} 件）"
                        for event in info["recent_events"]]


@dataclass
class DemoResult(StatusResult):
    """`demo`: the watcher's pass over the samples, then the day's counts and where everything went."""
    code: int
    places: dict[str, Path]         # 归档/退回/回执/台帐 -> folder

    @property
    def exit_code(self) -> int:
        return self.code

    def lines(self) -> list[str]:
        where = "；".join(f"{name}：{path}" for name, path in self.places.items())
        return [f"\n今日受理 {self.info['today']['accepted']} 份，拒收 {self.info['today']['refused']} 份。{where}"]


@dataclass
class GroupReportResult(Result):
    """`tousu report --group`: every office's 服务月报 figures and their sum (group.group_report)."""
    month: str
    path: str
    figures: Json                   # {"offices": {code: line}, "total": line}

    def to_json(self) -> Json:
        return {"month": self.month, "report": self.path, **self.figures}

    def lines(self) -> list[str]:
        from .group import office_name
        lines = [f"集团服务月报已生成：{self.path}"]
        for code, line in [*self.figures["offices"].items(), (None, self.figures["total"])]:
            rates = "，".join(f"{name} {r['numerator']}/{r['denominator']}" for name, r in line["rates"].items())
            lines.append(f"  {'集团合计' if code is None else office_name(code)}：受理 {line['cases']} 件，"
                         f"重复 {line['repeat']} 件，未办结 {line['open']} 件；{rates}")
        return lines


@dataclass
class GroupScoreResult(Result):
    """`tousu score --group`: every office's §7 scores and the group's total per unit (group.group_scores)."""
    month: str
    path: str
    scores: Json                    # {"offices": {code: [unit scores]}, "total": {unit: points}}

    def to_json(self) -> Json:
        return {"month": self.month, "report": self.path, **self.scores}

    def lines(self) -> list[str]:
        return [f"集团考核扣分（明细表：{self.path}）",
                *(f"  {unit}：集团合计扣 {points:g} 分" for unit, points in self.scores["total"].items())]


@dataclass
class DbInitResult(Result):
    """`tousu db init`: the office's tables on the journal server."""
    server: str
    office: str
    schema: str
    created: bool
    offices: list[str]

    def to_json(self) -> Json:
        return {"server": self.server, "office": self.office, "schema": self.schema, "offices": self.offices}

    def lines(self) -> list[str]:
        from .group import office_name
        return [f"日志数据库已就绪：{self.server}；本单位的表在 {self.schema}{'（新建）' if self.created else ''}；"
                f"数据库中的单位：{'、'.join(map(office_name, self.offices))}"]
