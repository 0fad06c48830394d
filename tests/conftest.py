import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.forms.build import build
from toolkit.forms.kinds import INTAKE

NOW = "2026-11-21T09:00:00"

INTAKE_VALUES = dict(
    customer_name="陈美华", address="三明市梅列区列东街28号", phone="13805931234", target="抄表班",
    received_at=datetime(2026, 11, 20, 15, 30), channel="客服热线", receiver="林晓燕", severity="非重大",
    content="抄表员未入户抄表，疑似估抄。", demand="重新核实读数。")


@pytest.fixture
def intake(tmp_path):
    """Write a filled intake built by the shared builder; returns its path."""
    counter = iter(range(1, 10_000))

    def make(suffix=".xlsx", layout="annex", **changes):
        path = tmp_path / f"intake-{next(counter)}{suffix}"
        return build(INTAKE, {**INTAKE_VALUES, **changes}, path, layout)
    return make


@pytest.fixture
def workspace(tmp_path):
    return tmp_path / "ws"


@pytest.fixture
def tousu(workspace, monkeypatch):
    """Run the CLI in-process with a fixed clock; returns (exit code, parsed JSON lines, output)."""
    monkeypatch.setenv("TOUSU_NOW", NOW)
    monkeypatch.delenv("TOUSU_WORKSPACE", raising=False)
    monkeypatch.delenv("TOUSU_JOURNAL", raising=False)

    def run(*args, json_out=True):
        argv = [str(a) for a in args]
        if argv[0] != "init":
            argv += ["-w", str(workspace)]
        if json_out:
            argv.append("--json")
        result = CliRunner().invoke(main, argv)
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")] if json_out else []
        return result.exit_code, lines, result.output
    return run


def archived_files(workspace: Path) -> list[str]:
    return sorted(p.relative_to(workspace).as_posix() for p in (workspace / "archive").rglob("*") if p.is_file())
