"""The group's commands: `tousu db init` (the office's schema on the journal server) and the `--group`
branches of `tousu report` and `tousu score` (toolkit/group.py). Registered by toolkit/cli.py."""
import json

import click

from .cli import _open, json_option, main, workspace_option
from .clock import Clock
from .errors import ConfigError
from .group import group_report, group_scores, office_name


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
    from .journal_pg import PgStore
    ws = _open(workspace)
    store = ws.journal_store
    if not isinstance(store, PgStore):
        raise ConfigError("未设置日志数据库：请在策略 [journal] url 或环境变量 TOUSU_JOURNAL 中设置 postgresql://…")
    journal = store.open()
    try:
        created = store.init(journal) or False
        offices = [code for code, _ in store.offices(journal)]
    finally:
        journal.close()
    with ws.locked():                           # the office's journal agrees with its archive from now on
        pass
    if as_json:
        click.echo(json.dumps({"server": store.location, "office": ws.office, "schema": store.schema,
                               "offices": offices}, ensure_ascii=False))
        return
    click.echo(f"日志数据库已就绪：{store.location}；本单位的表在 {store.schema}{'（新建）' if created else ''}；"
               f"数据库中的单位：{'、'.join(map(office_name, offices))}")


def report_group(month: str, workspace, as_json: bool) -> None:
    """`tousu report --group`: every office's 服务月报 figures and their sum."""
    ws = _open(workspace)
    path, figures = group_report(ws, month, Clock.from_env().now())
    if as_json:
        click.echo(json.dumps({"month": month, "report": ws.relative(path), **figures}, ensure_ascii=False))
        return
    click.echo(f"集团服务月报已生成：{ws.relative(path)}")
    for code, line in [*figures["offices"].items(), (None, figures["total"])]:
        rates = "，".join(f"{name} {r['numerator']}/{r['denominator']}" for name, r in line["rates"].items())
        click.echo(f"  {'集团合计' if code is None else office_name(code)}：受理 {line['cases']} 件，"
                   f"重复 {line['repeat']} 件，未办结 {line['open']} 件；{rates}")


def score_group(month: str, workspace, as_json: bool) -> None:
    """`tousu score --group`: every office's §7 scores and the group's total per unit."""
    ws = _open(workspace)
    path, scores = group_scores(ws, month, Clock.from_env().now())
    if as_json:
        click.echo(json.dumps({"month": month, "report": ws.relative(path), **scores}, ensure_ascii=False))
        return
    click.echo(f"集团考核扣分（明细表：{ws.relative(path)}）")
    for unit, points in scores["total"].items():
        click.echo(f"  {unit}：集团合计扣 {points:g} 分")
