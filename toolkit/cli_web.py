"""`tousu serve` and `tousu user add`: the read-only web view (toolkit/web) and its accounts.
Registered on the main group at the end of toolkit/cli.py; import `toolkit.cli`, not this module."""
from pathlib import Path

import click

from .cli import _show, json_option, workspace_option
from .clock import Clock
from .errors import ConfigError
from .workspace import Workspace, default_root

LOOPBACK = "127.0.0.1"


@click.command()
@click.option("--host", default=LOOPBACK, show_default=True,
              help="监听地址；对局域网开放（如 0.0.0.0）须先用 tousu user add 建立账户。")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="端口。")
@workspace_option
def serve(host, port, workspace):
    """只读网页：今日到期与超时、案件查询、案件详情、月度报表（不修改工作区任何文件）。

    例：tousu serve -w 投诉共享 --host 0.0.0.0 --port 8080
    """
    import uvicorn

    from .web.app import create_app
    from .web.users import is_loopback, load_users, users_path

    root = Path(workspace or default_root()).resolve()
    if not is_loopback(host) and not load_users(users_path(Workspace(root))):
        raise ConfigError(f"尚无账户，只能在本机（{LOOPBACK}）查看。对局域网开放前请先建立账户："
                          f"tousu user add 姓名 --unit 单位 或 --office。")
    app = create_app(root, Clock.from_env(), server=True)
    click.echo(f"只读网页已启动：http://{host}:{port}/（Ctrl+C 停止）", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@click.group()
def user():
    """网页账户（tousu serve）：存放在工作区 .tousu/users.toml，密码以 scrypt 散列保存。

    例：tousu user add 王敏 --office
    """


@user.command("add")
@click.argument("name")
@click.option("--unit", default=None, help="承办单位（须为策略 [units] 中的单位）：只看本单位案件，电话与地址脱敏。")
@click.option("--office", is_flag=True, help="服务管理办公室账户：查看全部案件。")
@click.password_option("--password", prompt="密码", confirmation_prompt="再次输入密码",
                       help="不给出时提示输入（输入不显示）。")
@workspace_option
@json_option
def user_add(name, unit, office, password, workspace, as_json):
    """新建账户，或为同名账户重设密码。

    例：tousu user add 王敏 --office；tousu user add 李娜 --unit 客户创值赋能群
    """
    from .web.users import add_user

    if bool(unit) == office:
        raise click.UsageError("请给出 --unit 单位 或 --office 其中之一。")
    _show(add_user(Workspace.open(workspace or default_root()), name, unit, password), as_json)


def register(main: click.Group) -> None:
    main.add_command(serve)
    main.add_command(user)
