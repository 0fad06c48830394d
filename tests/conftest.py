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


FEEDBACK_VALUES = dict(
    {k: v for k, v in INTAKE_VALUES.items() if k not in ("phone", "demand")}, phone="13805931234",
    number="TS2026110001", business="抄表收费", business_step="抄表", responsibility="责任",
    unit="客户创值赋能群", person="张强", investigator="李娜", feedback_date=datetime(2026, 11, 21, 8, 30),
    situation="11月18日抄表员张强未入户，按上月估抄。", solution="重新入户抄表，按实际读数结算。",
    result="已重新抄表，退还多收气费 86 元，客户认可。", completion="已办结", cause="抄表员未按规定入户。",
    prevention="抄表照片上传系统，班长每周抽查。")
REVIEWED = dict(first_review="情况属实，同意处理意见", first_signer="王敏", final_review="同意，判定为责任投诉",
                final_signer="赵刚")


@pytest.fixture
def form(tmp_path):
    """Write any declared form kind, filled with `values`; returns its path."""
    counter = iter(range(1, 10_000))

    def make(kind, values, suffix=".xlsx", layout="annex"):
        return build(kind, values, tmp_path / f"{kind.key}-{next(counter)}{suffix}", layout)
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
    """The case files (archive/YYYY/MM/<编号>/…): refusal records and the counters are not case files."""
    return sorted(p.relative_to(workspace).as_posix() for p in (workspace / "archive").glob("[0-9]*/*/*/**/*")
                  if p.is_file())


# ---------------------------------------------------------------- the journal on both backends
# The modules whose tests run twice: on the SQLite journal and on a PostgreSQL journal (a new database
# each test, tests/pg.py). Modules that damage or delete the SQLite file itself stay SQLite-only.
JOURNAL_MODULES = {"test_rebuild", "test_classification", "test_lifecycle", "test_scoring", "test_report",
                   "test_refusals", "test_one_writer", "test_rules_month", "test_notices", "test_ledger",
                   "test_ledger_incremental", "test_watch", "test_watch_faults"}


@pytest.fixture(autouse=True)
def journal_backend(request, monkeypatch):
    """"sqlite", or "postgresql" with TOUSU_JOURNAL set to a new database (after `tousu` cleared it), in
    this process and in the module's ENV for the `tousu` subprocesses it starts."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        from pg import database
        if "tousu" in request.fixturenames:
            request.getfixturevalue("tousu")
        url = database()
        monkeypatch.setenv("TOUSU_JOURNAL", url)
        if isinstance(getattr(request.module, "ENV", None), dict):
            monkeypatch.setitem(request.module.ENV, "TOUSU_JOURNAL", url)
    return backend


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__ in JOURNAL_MODULES and "journal_backend" in metafunc.fixturenames:
        metafunc.parametrize("journal_backend", ["sqlite", "postgresql"], indirect=True)
