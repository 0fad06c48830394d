"""The `tousu` command: parses options, makes one library call, prints the result as Chinese
text or JSON. Library errors map to exit codes here and nowhere else:
0 success, 1 some input refused or a check failed, 2 usage or configuration error."""
import json
import shutil
import signal
import sqlite3
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

import click

from . import cli_text
from .batch import process_batch, rebuild_all
from .clock import Clock
from .deadlines import STAGE_NAMES, DeadlineRules
from .errors import (
    ConfigError,
    FormRefused,
    ToolkitError,
    WorkspaceUnavailable,
    sqlite_reason,
)
from .forms.values import ValueIssue, parse_datetime
from .notices import NO_UNIT, find_overdue, issue_notices, listing_warnings
from .paths import SAMPLES
from .period import BadMonth, month_bounds
from .policy import REQUIRED_DATE, SEVERITIES, load_policy
from .process import check as check_file
from .receipt import STAGE_TEXT
from .report import write_report, write_score_sheet
from .scoring import PERSON_PENALTIES, score_month
from .scoring import warnings as score_warnings
from .status import workspace_status
from .verify import verify as verify_workspace
from .watcher import Watcher, configure_logging
from .workspace import Workspace, default_root

cli_text.install()
workspace_option = click.option(
    "-w", "--workspace", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="工作区目录（默认：环境变量 TOUSU_WORKSPACE，否则 ./watch）。")
json_option = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供其他系统读取）。")
def _month(ctx, param, value: str) -> str:
    try:
        month_bounds(value)
    except BadMonth as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def month_option(what: str):
    """--month YYYY-MM, checked by click: a malformed month is a usage error (exit 2)."""
    return click.option("--month", required=True, callback=_month, help=f"{what}，如 2026-11。")


files_argument = click.argument("files", nargs=-1, required=True,
                                type=click.Path(exists=True, dir_okay=False, path_type=Path))


def _internal_error(exc: BaseException) -> str:
    """Keep the traceback for the maintainer; the clerk reads where it is and what to do."""
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    path = Path(tempfile.gettempdir()) / f"tousu-错误-{stamp}.log"
    try:
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        where = f"详细信息已记录在 {path}"
    except OSError:
        where = "详细信息无法记录"
    return f"内部错误（{type(exc).__name__}）：操作未完成，已写入的内容不受影响。{where}，请发给维护人员。"


FAILURES = ((ConfigError, "配置错误", 2), (WorkspaceUnavailable, "工作区错误", 2), (FormRefused, "错误", 1),
            (ToolkitError, "错误", 2))      # the first that matches: heading and exit code


class Tousu(click.Group):
    """Translates every failure into a Chinese message and an exit code, in one place: a refused input 1;
    usage, configuration or workspace problems 2. No command prints a Python traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ToolkitError as exc:
            heading, code = next((h, c) for kind, h, c in FAILURES if isinstance(exc, kind))
            click.echo(f"{heading}：{exc}", err=True)
            sys.exit(code)
        except OSError as exc:
            click.echo(f"工作区错误：{WorkspaceUnavailable.from_os(exc, '无法读写')}", err=True)
            sys.exit(2)
        except sqlite3.Error as exc:
            click.echo(f"工作区错误：日志数据库无法使用：{sqlite_reason(exc)}。", err=True)
            sys.exit(2)
        except Exception as exc:  # noqa: BLE001 - the last boundary: never a traceback for a clerk
            click.echo(_internal_error(exc), err=True)
            sys.exit(2)


def _emit(receipts, as_json: bool) -> None:
    for receipt in receipts:
        if as_json:
            click.echo(json.dumps(receipt.to_json(), ensure_ascii=False))
        else:
            click.echo(receipt.describe() + "\n")
    if any(not r.ok for r in receipts):
        sys.exit(1)


def _open(workspace: Path | None) -> Workspace:
    """The command's workspace, closed (its read-only journal connection) when the command ends."""
    ws = Workspace.open(workspace or default_root())
    ws.waiting = lambda message: click.echo(f"提示：{message}", err=True)
    click.get_current_context().call_on_close(ws.close)
    return ws


@click.group(cls=Tousu)
@click.version_option(package_name="tousu")
def main():
    """tousu：客户投诉管理工具（《客户投诉管理办法》）。

    表单放入工作区 inbox/ 后自动编号、校验、计算时限并归档；另有台帐、督办、考核与月报命令。
    """


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@json_option
def init(directory, as_json):
    """创建工作区目录结构（inbox、archive、rejected 等）。

    例：tousu init 投诉共享
    """
    ws = Workspace.open(directory)
    with ws.locked():                           # creates the journal's schema and the archive counters
        pass
    if as_json:
        click.echo(json.dumps({"workspace": str(ws.root), "journal": str(ws.journal_path)}, ensure_ascii=False))
    else:
        click.echo(f"工作区已就绪：{ws.root}")


@main.command()
@files_argument
@workspace_option
@json_option
def process(files, workspace, as_json):
    """受理表单：编号、校验、计算时限并归档（拒收的文件原地不动）。

    例：tousu process 受理记录单.xlsx --json
    """
    receipts, messages = process_batch(_open(workspace), list(files), Clock.from_env())
    for message in messages:
        click.echo(f"提示：{message}", err=True)
    _emit(receipts, as_json)


@main.command()
@files_argument
@workspace_option
@json_option
def check(files, workspace, as_json):
    """只校验表单，不编号、不写入任何文件。

    例：tousu check 受理记录单.xlsx
    """
    root = workspace or default_root()
    policy = load_policy(Path(root) / "policy.toml")
    clock = Clock.from_env()
    _emit([check_file(path, policy, clock) for path in files], as_json)


@main.command()
@click.option("--channel", required=True, help="受理渠道，如 客服热线、XX能源服务质量监督热线批转。")
@click.option("--severity", required=True, type=click.Choice(SEVERITIES), help="投诉性质：重大 或 非重大。")
@click.option("--received", required=True, help="受理时间，如 \"2026-11-20 15:30\"。")
@click.option("--required-date", default=None, help="要求办结日期（政府/媒体/主管部门批转时）。")
@workspace_option
@json_option
def due(channel, severity, received, required_date, workspace, as_json):
    """按附件3 时限表计算调查反馈与处理反馈时限。

    例：tousu due --channel 客服热线 --severity 非重大 --received "2026-11-20 15:30"
    """
    policy = load_policy(Path(workspace or default_root()) / "policy.toml")
    reference = Clock.from_env().now()
    try:
        moment = parse_datetime(received, reference)[0]
        required = parse_datetime(required_date, reference)[0].date() if required_date else None
    except ValueIssue as issue:
        raise click.UsageError(f"日期无法识别：{issue}") from None
    channel_class, _ = policy.channel_class(channel)
    deadlines = DeadlineRules(policy).intake(channel_class, severity, moment, required)
    if as_json:
        click.echo(json.dumps({"deadlines": deadlines.to_json()}, ensure_ascii=False))
        return
    click.echo(f"渠道类别：{channel_class}；投诉性质：{severity}；受理时间：{moment:%Y-%m-%d %H:%M}")
    if required is None and policy.limit(channel_class, severity, "investigation") == REQUIRED_DATE:
        click.echo(f"提示：未给出要求办结日期（--required-date），已按「{policy.fallback_class}」时限计算。")
    for stage, value in deadlines.to_json().items():
        if value:
            click.echo(f"{STAGE_TEXT[stage]}：{value.replace('T', ' ')} 前")


@main.group()
def ledger():
    """投诉管理台帐（附件5）：ledger/投诉管理台帐-YYYY.xlsx，每月一张工作表。

    例：tousu ledger rebuild
    """


@ledger.command("rebuild")
@workspace_option
@json_option
def ledger_rebuild(workspace, as_json):
    """只凭 archive/ 重建日志与全部台帐（删除 .tousu/ 或 ledger/ 后也可恢复）。

    无法读取的归档记录会被跳过并列出（退出码 1），不会中断重建。

    例：tousu ledger rebuild -w 投诉共享
    """
    ws = _open(workspace)
    result, messages = rebuild_all(ws, Clock.from_env())
    years = sorted(p.name for p in ws.ledger.glob("投诉管理台帐-*.xlsx"))
    if as_json:
        click.echo(json.dumps({"cases": result.cases, "files": result.files, "refusals": result.refusals,
                               "skipped": [{"path": p, "reason": r} for p, r in result.skipped],
                               "ledgers": years, "messages": messages}, ensure_ascii=False))
    else:
        click.echo(f"已从归档重建 {result.cases} 件投诉（表单 {result.files} 份，拒收记录 {result.refusals} 份）；"
                   f"台帐：{'、'.join(years) or '无'}")
        for path, reason in result.skipped:
            click.echo(f"已跳过：{path}：{reason}")
        for message in messages:
            click.echo(f"提示：{message}")
    if result.skipped:
        sys.exit(1)


@main.command()
@workspace_option
@json_option
def verify(workspace, as_json):
    """检查归档、日志、台帐与回执是否一致（只检查，不修改），逐条列出不一致之处及其路径。

    有不一致时退出码为 1；处理方法见 README「tousu verify」一节。

    例：tousu verify -w 投诉共享
    """
    findings = verify_workspace(_open(workspace), Clock.from_env().now())
    if as_json:
        click.echo(json.dumps({"ok": not findings, "findings": [f.to_json() for f in findings]}, ensure_ascii=False))
    elif findings:
        click.echo(f"发现 {len(findings)} 处不一致：")
        for finding in findings:
            click.echo(f"  {finding.path}：{finding.problem}")
    else:
        click.echo("归档、日志、台帐与回执一致。")
    if findings:
        sys.exit(1)


@main.command()
@month_option("考核月份（受理时间所在月）")
@workspace_option
@json_option
@click.option("--group", is_flag=True, help="集团：日志数据库中所有单位的考核扣分（每单位一页与汇总页）。")
def score(month, workspace, as_json, group):
    """按办法第10条计算各责任部门当月考核扣分，逐条列出依据，并写出考核明细表。

    例：tousu score --month 2026-11
    """
    if group:
        return cli_db.score_group(month, workspace, as_json)
    ws = _open(workspace)
    scores = score_month(ws.journal, ws.policy, month, Clock.from_env().now())
    path = write_score_sheet(ws, month, scores)
    notes = score_warnings(scores)
    if as_json:
        click.echo(json.dumps({"month": month, "units": [s.to_json() for s in scores], "warnings": notes},
                              ensure_ascii=False))
        return
    click.echo(f"{month} 考核扣分（明细表：{ws.relative(path)}）")
    for s in scores:
        total = f"合计扣 {s.points:g} 分" if s.charged else f"列示 {s.points:g} 分，不计入任何单位"
        click.echo(f"{s.unit}：重大 {s.major} 起，责任 {s.responsible} 起，非责任 {s.non_responsible} 起，"
                   f"超时 {s.late} 起，{total}")
        for line in s.lines:
            click.echo(f"    {line.number}  {line.points:g} 分  {line.reason}")
    for note in notes:
        click.echo(f"提示：{note}")
    click.echo("对投诉主要责任人考核扣罚参考标准（办法10.1，供参考，不自动计算）：")
    for level, text in PERSON_PENALTIES:
        click.echo(f"    {level}：{text}")


def _moment(text: str | None, clock: Clock):
    if not text:
        return clock.now()
    try:
        return parse_datetime(text, clock.now())[0]
    except ValueIssue as issue:
        raise click.UsageError(f"时间「{text}」无法识别：{issue}") from None


@main.command()
@click.option("--as-of", "as_of", default=None, help="截至时间（默认：现在），如 2026-11-27 或 \"2026-11-27 17:00\"。")
@click.option("--notices", is_flag=True, help="为每件超时未反馈的投诉生成《投诉处理督办通知单》（已生成的不重复）。")
@workspace_option
@json_option
def overdue(as_of, notices, workspace, as_json):
    """列出截至某一时间已超过时限仍未反馈的投诉环节，可生成督办通知单（附件4）。

    --notices 只能按现在或过去的时间生成（通知单是正式文件）。例：tousu overdue --as-of 2026-11-27 --notices
    """
    ws = _open(workspace)
    clock = Clock.from_env()
    moment = _moment(as_of, clock)
    items = find_overdue(ws.journal, moment)
    if notices:
        with ws.locked():
            issue_notices(ws, items, moment, clock.now())
    warnings = listing_warnings(items)
    if as_json:
        click.echo(json.dumps({"as_of": moment.isoformat(timespec="seconds"), "overdue": [i.to_json() for i in items],
                               "warnings": warnings}, ensure_ascii=False))
        return
    click.echo(f"截至 {moment:%Y-%m-%d %H:%M}，超时未反馈 {len(items)} 项：")
    for item in items:
        notice = f"  督办单{'（本次新生成）' if item.new else '（此前已生成）'}：{item.notice}" if item.notice else ""
        click.echo(f"  {item.number}  {STAGE_NAMES[item.stage]}  时限 {item.due.replace('T', ' ')}  "
                   f"{item.unit or NO_UNIT}{notice}")
    for warning in warnings:
        click.echo(f"提示：{warning}")


@main.command()
@month_option("月报月份")
@workspace_option
@json_option
@click.option("--group", is_flag=True, help="集团：日志数据库中所有单位的月报（每单位一页与汇总页）。")
def report(month, workspace, as_json, group):
    """生成服务月报 reports/服务月报-YYYY-MM.xlsx：投诉数量、及时率、满意率、信息维护合格率、考核扣分与图表。

    例：tousu report --month 2026-11
    """
    if group:
        return cli_db.report_group(month, workspace, as_json)
    ws = _open(workspace)
    path, figures = write_report(ws, month, Clock.from_env().now())
    rates = {r.name: {"numerator": r.numerator, "denominator": r.denominator, "rate": r.value}
             for r in figures["rates"]}
    if as_json:
        click.echo(json.dumps({"month": month, "report": ws.relative(path), "cases": len(figures["cases"]),
                               "rates": rates, "repeat": len(figures["repeat"]), "open": len(figures["open"])},
                              ensure_ascii=False))
        return
    click.echo(f"服务月报已生成：{ws.relative(path)}；本月受理 {len(figures['cases'])} 件")
    for name, r in rates.items():
        shown = f"{r['rate']:.2%}" if r["rate"] is not None else "—"
        click.echo(f"  {name}：{r['numerator']}/{r['denominator']} = {shown}")


@main.command()
@click.option("--poll", type=float, default=None, help="改用轮询（秒），用于收不到文件通知的网络共享（SMB/NFS）。")
@click.option("--once", is_flag=True, help="处理完收件箱中现有文件后退出（供计划任务使用）。")
@click.option("--settle", type=float, default=None, help="文件大小与修改时间保持不变多少秒后才处理（默认见策略）。")
@workspace_option
@json_option
def watch(poll, once, settle, workspace, as_json):
    """监视工作区 inbox/：放入的表单自动编号、校验、归档或退回，并写回执（主程序）。

    例：tousu watch -w 投诉共享 --poll 5
    """
    ws = _open(workspace)
    configure_logging(ws, console=not as_json)
    def print_receipt(receipt):
        click.echo(json.dumps(receipt.to_json(), ensure_ascii=False))
    watcher = Watcher(ws, Clock.from_env(), poll, settle, on_receipt=print_receipt if as_json else None)
    signal.signal(signal.SIGTERM, watcher.stop)
    signal.signal(signal.SIGINT, watcher.stop)
    if once:
        click.echo(f"正在处理 {ws.inbox} 中的现有文件……", err=True)
    else:
        how = f"轮询 {poll} 秒" if poll else "文件通知"
        click.echo(f"正在监视 {ws.inbox}（{how}）；Ctrl+C 停止。", err=True)
    sys.exit(watcher.run(once=once))


@main.command()
@workspace_option
@json_option
def status(workspace, as_json):
    """显示收件箱待处理文件、今日受理/拒收数量与最近的问题。

    例：tousu status
    """
    ws = _open(workspace)
    info = workspace_status(ws, Clock.from_env().now())
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False))
        return
    names = f"（{'、'.join(info['pending'])}）" if info["pending"] else ""
    click.echo(f"待处理：{len(info['pending'])} 个文件{names}")
    for item in info["held"]:
        click.echo(f"未能处理（留在收件箱）：{item['file']}：{item['reason']}")
    if info["in_subfolders"]:
        click.echo(f"收件箱子文件夹中的文件不会处理，请移到 inbox/ 下：{'、'.join(info['in_subfolders'])}")
    if info["unfinished"]:
        click.echo(f"处理中断、待完成：{'、'.join(info['unfinished'])}（监视程序启动时自动完成）")
    if info["ledgers_pending"]:
        years = "、".join(map(str, info["ledgers_pending"]))
        click.echo(f"待更新的台帐年份：{years}（下一批次或 tousu ledger rebuild 时更新）")
    click.echo(f"今日：受理 {info['today']['accepted']} 份，拒收 {info['today']['refused']} 份")
    for item in info["recent_refusals"]:
        click.echo(f"最近拒收：{item['file']}（{item['at'].replace('T', ' ')}）{item['problem']}")
    for event in info["recent_events"]:
        click.echo(f"最近事件：{event['at'].replace('T', ' ')} 日志已按归档重建（{event.get('cases', 0)} 件）")


@main.command()
@workspace_option
@json_option
def demo(workspace, as_json):
    """演示主程序：把 samples/ 中的示例表单放入工作区 inbox/，由监视程序处理一遍后退出。

    例：tousu demo
    """
    ws = _open(workspace)
    configure_logging(ws)
    for sample in sorted(SAMPLES.glob("*")):       # copied in name order: follow-ups after their intakes
        if sample.suffix.lower() in (".xlsx", ".xlsm", ".docx", ".xls", ".doc"):
            shutil.copyfile(sample, ws.inbox / sample.name)
    code = Watcher(ws, Clock.from_env(), settle=0.2).run(once=True)
    info = workspace_status(ws, Clock.from_env().now())
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False))
        sys.exit(code)
    click.echo(f"\n今日受理 {info['today']['accepted']} 份，拒收 {info['today']['refused']} 份。"
               f"归档：{ws.archive}；退回：{ws.rejected}；回执：{ws.receipts}；台帐：{ws.ledger}")
    sys.exit(code)


from . import cli_db  # noqa: E402 - the group's commands (tousu db, --group) register on main
