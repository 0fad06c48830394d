"""The group's commands: `tousu db init` (the office's schema on the journal server) and the `--group`
branches of `tousu report` and `tousu score` (toolkit/group.py). Registered by toolkit/cli.py."""
from . import commands
from .cli import _open, _show, json_option, main, workspace_option
from .clock import Clock


@main.group()
def db():
    """集团日志数据库（PostgreSQL）：各单位共用一个日志数据库，见 README「集团」一节。

    例：tousu db init -w 投诉共享
    """


@db.command("init")
@workspace_option
@json_option
def db_init(workspace, as_json):
    """在日志数据库中建立本单位（策略 [office] code）的表；已建立时不变。

    例：tousu db init -w 投诉共享
    """
    _show(commands.db_init(_open(workspace)), as_json)


def report_group(month: str, workspace, as_json: bool) -> None:
    """`tousu report --group`: every office's 服务月报 figures and their sum."""
    _show(commands.group_report(_open(workspace), month, Clock.from_env()), as_json)


def score_group(month: str, workspace, as_json: bool) -> None:
    """`tousu score --group`: every office's §7 scores and the group's total per unit."""
    _show(commands.group_score(_open(workspace), month, Clock.from_env()), as_json)
