"""Issue 12 item 16, the command side: click's own texts are Chinese, `watch --once` does not claim to
keep watching, and `status` names files put in inbox sub-folders (which are not processed)."""
import subprocess

import pytest
from click.testing import CliRunner
from test_watch import ENV, TOUSU

from toolkit.cli import main


@pytest.mark.parametrize("argv, expected", [
    (["score"], "缺少选项 '--month'"),
    (["score", "--month", "2026-13"], "月份「2026-13」格式不对"),
    (["nope"], "没有命令 'nope'"),
    (["process", "/没有这个文件.xlsx"], "不存在"),
    (["due", "--channel", "客服热线", "--severity", "中等", "--received", "2026-11-20"], "不在"),
])
def test_usage_errors_are_chinese_and_exit_2(argv, expected):
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2 and expected in result.output, result.output
    assert "Usage" not in result.output and "Error" not in result.output and "用法：" in result.output


def test_help_is_chinese():
    result = CliRunner().invoke(main, ["status", "--help"])
    assert "显示本帮助并退出。" in result.output and "Show this message" not in result.output
    assert "选项" in result.output and "Options" not in result.output


@pytest.mark.slow
def test_watch_once_says_it_processes_what_is_there(tmp_path):
    done = subprocess.run([TOUSU, "watch", "--once", "-w", str(tmp_path / "ws")], env=ENV, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "现有文件" in done.stderr and "Ctrl+C" not in done.stderr


def test_status_names_files_in_inbox_subfolders(tousu, workspace, intake):
    tousu("status")
    (workspace / "inbox" / "张三").mkdir()
    intake().rename(workspace / "inbox" / "张三" / "受理.xlsx")
    code, lines, _ = tousu("status")
    assert lines[0]["in_subfolders"] == ["张三/受理.xlsx"]
    code, _, text = tousu("status", json_out=False)
    assert "子文件夹" in text and "张三/受理.xlsx" in text


def test_score_warns_about_cases_without_a_unit_and_charges_nobody(tousu, intake):
    tousu("process", intake(target="其他", unit=None))
    code, lines, _ = tousu("score", "--month", "2026-11")
    unassigned, = [u for u in lines[0]["units"] if u["unit"] == "未指定承办单位"]
    assert unassigned["charged"] is False and unassigned["cases"] == ["TS2026110001"]
    assert lines[0]["warnings"] and "TS2026110001" in lines[0]["warnings"][0]
    code, _, text = tousu("score", "--month", "2026-11", json_out=False)
    assert "不计入任何单位" in text and "提示：" in text


def test_a_unit_that_is_not_in_the_policy_is_never_charged_nor_addressed(tousu, intake):
    code, lines, _ = tousu("process", intake(unit='=HYPERLINK("http://x","点我")'))
    assert code == 0 and any(p["field"] == "承办单位" for p in lines[0]["problems"])
    code, lines, _ = tousu("score", "--month", "2026-11")
    assert [u["unit"] for u in lines[0]["units"]] == ["未指定承办单位"]


def test_a_busy_workspace_says_it_is_waiting(tousu, intake, workspace, monkeypatch):
    """Found in review: `tousu process` waited up to 120 s for the lock without a word."""
    import threading
    import time

    from toolkit.workspace import Workspace
    monkeypatch.setattr("toolkit.workspace.QUIET_WAIT", 0.2)
    tousu("status")
    other = Workspace.open(workspace)
    released = threading.Event()

    def hold():
        with other.holding():
            released.wait(5)
    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    threading.Timer(1.0, released.set).start()
    code, lines, output = tousu("process", intake())
    holder.join()
    assert code == 0 and lines[0]["number"] == "TS2026110001"
    assert "工作区正被其他程序使用" in output and "正在等待" in output
