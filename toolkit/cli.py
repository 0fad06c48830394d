"""The `tousu` command: parses options, makes one library call, prints the result as Chinese
text or JSON. Library errors map to exit codes here and nowhere else:
0 success, 1 some input refused or a check failed, 2 usage or configuration error."""
import json
import signal
import sqlite3
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

import click

from . import cli_text, commands
from .clock import Clock
from .errors import (
    BadArgument,
    ConfigError,
    FormRefused,
    ToolkitError,
    WorkspaceUnavailable,
    sqlite_reason,
)
from .paths import workspace_policy
from .period import BadMonth, month_bounds
from .policy import load_policy, shipped_policies
from .results import Result
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


FAILURES = ((ConfigError, "配置错误", 2), (WorkspaceUnavailable, "工作区错误", 2),
            (FormRefused, "错误", 1),
            (ToolkitError, "错误", 2))      # the first that matches: heading and exit code


class TousuCommand(click.Command):
    """A value on the command line the library cannot understand is a usage error of this command:
    click prints the command's usage line and the Chinese reason, exit 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BadArgument as exc:
            raise click.UsageError(str(exc), ctx) from None


class Tousu(click.Group):
    """Translates every failure into a Chinese message and an exit code, in one place: a refused input 1;
    usage, configuration or workspace problems 2. No command prints a Python traceback."""
    command_class = TousuCommand

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


def _show(result: Result, as_json: bool) -> None:
    """Render a command's result once: JSON lines or the Chinese text, hints on stderr, then its exit code."""
    for note in result.notes:
        click.echo(f"提示：{note}", err=True)
    if as_json:
        for line in result.json_lines():
            click.echo(json.dumps(line, ensure_ascii=False))
    else:
        for line in result.lines():
            click.echo(line)
    if result.exit_code:
        sys.exit(result.exit_code)


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
@click.option("--policy", "policy_name", default=None,
              help=f"按其他制度的策略建立工作区（templates/policies/ 中的编号：{'、'.join(shipped_policies())}）；"
                   f"不给则用默认策略。")
@json_option
def init(directory, policy_name, as_json):
    """创建工作区目录结构（inbox、archive、rejected 等）。

    例：tousu init 投诉共享；tousu init 科技馆投诉 --policy 003
    """
    _show(commands.init(directory, policy_name), as_json)


@main.command()
@files_argument
@workspace_option
@json_option
def process(files, workspace, as_json):
    """受理表单：编号、校验、计算时限并归档（拒收的文件原地不动）。

    例：tousu process 受理记录单.xlsx --json
    """
    _show(commands.process(_open(workspace), list(files), Clock.from_env()), as_json)


@main.command()
@files_argument
@workspace_option
@json_option
def check(files, workspace, as_json):
    """只校验表单，不编号、不写入任何文件。

    例：tousu check 受理记录单.xlsx
    """
    policy = load_policy(workspace_policy(workspace or default_root()))
    _show(commands.check(policy, list(files), Clock.from_env()), as_json)


@main.command()
@click.option("--channel", required=True, help="受理渠道，如 客服热线、XX能源服务质量监督热线批转。")
@click.option("--severity", required=True, help="投诉性质：策略中的等级之一（默认策略：重大 或 非重大）。")
@click.option("--received", required=True, help="受理时间，如 \"2026-11-20 15:30\"。")
@click.option("--required-date", default=None, help="要求办结日期（政府/媒体/主管部门批转时）。")
@workspace_option
@json_option
def due(channel, severity, received, required_date, workspace, as_json):
    """按附件3 时限表计算调查反馈与处理反馈时限。

    例：tousu due --channel 客服热线 --severity 非重大 --received "2026-11-20 15:30"
    """
    policy = load_policy(workspace_policy(workspace or default_root()))
    _show(commands.due(policy, channel, severity, received, required_date, Clock.from_env()), as_json)


@main.group()
def ledger():
    """投诉管理台帐（附件5）：ledger/投诉管理台帐-YYYY.xlsx，每月一张工作表。

    例：tousu ledger rebuild
    """


@ledger.command("rebuild")
@click.option("--reread", is_flag=True, help="按当前程序重新读取每份归档表单（程序修正读取问题后使用），并更新其记录。")
@workspace_option
@json_option
def ledger_rebuild(reread, workspace, as_json):
    """只凭 archive/ 重建日志与全部台帐（删除 .tousu/ 或 ledger/ 后也可恢复）。

    表单的内容取自归档记录（.meta.json），不重新读取表单；--reread 则按当前程序重读每份表单。
    无法读取的归档记录会被跳过并列出（退出码 1），不会中断重建。

    例：tousu ledger rebuild -w 投诉共享
    """
    _show(commands.rebuild(_open(workspace), Clock.from_env(), reread), as_json)


@main.command()
@workspace_option
@json_option
def verify(workspace, as_json):
    """检查归档、日志、台帐与回执是否一致（只检查，不修改），逐条列出不一致之处及其路径。

    有不一致时退出码为 1；处理方法见 README「tousu verify」一节。

    例：tousu verify -w 投诉共享
    """
    _show(commands.verify(_open(workspace), Clock.from_env()), as_json)


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
    _show(commands.score(_open(workspace), month, Clock.from_env()), as_json)


@main.command()
@click.option("--as-of", "as_of", default=None, help="截至时间（默认：现在），如 2026-11-27 或 \"2026-11-27 17:00\"。")
@click.option("--notices", is_flag=True, help="为每件超时未反馈的投诉生成《投诉处理督办通知单》（已生成的不重复）。")
@workspace_option
@json_option
def overdue(as_of, notices, workspace, as_json):
    """列出截至某一时间已超过时限仍未反馈的投诉环节，可生成督办通知单（附件4）。

    --notices 只能按现在或过去的时间生成（通知单是正式文件）。例：tousu overdue --as-of 2026-11-27 --notices
    """
    _show(commands.overdue(_open(workspace), as_of, notices, Clock.from_env()), as_json)


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
    _show(commands.report(_open(workspace), month, Clock.from_env()), as_json)


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
    _show(commands.status(_open(workspace), Clock.from_env()), as_json)


@main.command()
@workspace_option
@json_option
def demo(workspace, as_json):
    """演示主程序：把 samples/ 中的示例表单放入工作区 inbox/，由监视程序处理一遍后退出。

    例：tousu demo
    """
    _show(commands.demo(_open(workspace), Clock.from_env()), as_json)


from .cli_web import register  # noqa: E402 - the web view's commands (toolkit/cli_web.py)

register(main)

from . import cli_db  # noqa: E402 - the group's commands (tousu db, --group) register on main
