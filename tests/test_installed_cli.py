"""The installed `tousu` entry point, run as a subprocess the way a clerk or a scheduled task runs it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import main

pytestmark = pytest.mark.slow                  # runs the installed `tousu` as a subprocess

TOUSU = str(Path(sys.executable).parent / "tousu")


def run(*args, cwd=None, now="2026-11-21T09:00:00"):
    env = {**os.environ, "TOUSU_NOW": now}
    env.pop("TOUSU_WORKSPACE", None)
    return subprocess.run([TOUSU, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


def test_process_word_and_excel_intakes(intake, tmp_path):
    ws = tmp_path / "ws"
    done = run("process", intake(), intake(".docx", customer_name="王五"), "-w", ws, "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(l["form"], l["number"]) for l in lines] == [("intake", "TS2026110001"), ("intake", "TS2026110002")]


def test_default_workspace_is_watch_under_the_current_folder(intake, tmp_path):
    done = run("process", intake(), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "watch" / "archive" / "2026" / "11" / "TS2026110001").is_dir()


def test_refusal_exit_code_and_chinese_message(tmp_path):
    bad = tmp_path / "old.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    done = run("process", bad, "-w", tmp_path / "ws")
    assert done.returncode == 1 and "另存为 .xlsx" in done.stdout


def test_due_working_calendar_through_the_entry_point(tmp_path):
    (tmp_path / "policy.toml").write_text('[deadlines]\ncalendar = "working"\n', encoding="utf-8")
    done = run("due", "--channel", "客服热线", "--severity", "非重大", "--received", "2026-09-30 10:00",
               "-w", tmp_path, "--json")
    assert json.loads(done.stdout)["deadlines"]["investigation"] == "2026-10-10T23:59:59"


def _command_paths(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,)
        if hasattr(command, "commands"):
            yield from _command_paths(command, prefix + (name,))


@pytest.mark.parametrize("path", list(_command_paths(main)), ids=" ".join)
def test_every_command_has_chinese_help_with_an_example(path):
    done = subprocess.run([TOUSU, *path, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "例：" in done.stdout and any("\u4e00" <= ch <= "\u9fff" for ch in done.stdout.split("Options")[0])
