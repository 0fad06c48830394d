"""`ledger rebuild` in a workspace whose journal is gone builds the journal once: taking the lock already
rebuilds it (open_current), and that result is the command's."""
import shutil
from datetime import datetime

from conftest import INTAKE_VALUES

from toolkit import rebuild
from toolkit.forms.kinds import INTAKE
from toolkit.workspace import Workspace


def test_a_missing_journal_is_built_once_by_a_rebuild(tousu, form, workspace, monkeypatch):
    tousu("process", *[form(INTAKE, dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"1390000000{i}",
                                         received_at=datetime(2026, 11, 19, 8 + i))) for i in range(3)])
    (workspace / "archive/2026/11/TS2026110002/TS2026110002-受理记录单-v1.xlsx.meta.json").write_text("{")
    shutil.rmtree(workspace / ".tousu")
    built = []
    original = rebuild.build_journal
    monkeypatch.setattr(rebuild, "build_journal", lambda *a, **k: built.append(a) or original(*a, **k))
    result = rebuild.rebuild_journal(Workspace.open(workspace))
    assert len(built) == 1
    assert result.cases == 2 and [path for path, _ in result.skipped] == [
        "archive/2026/11/TS2026110002/TS2026110002-受理记录单-v1.xlsx.meta.json"]


def test_a_rebuild_with_a_journal_in_place_builds_it_again(tousu, form, workspace, monkeypatch):
    tousu("process", form(INTAKE, INTAKE_VALUES))
    built = []
    original = rebuild.build_journal
    monkeypatch.setattr(rebuild, "build_journal", lambda *a, **k: built.append(a) or original(*a, **k))
    assert rebuild.rebuild_journal(Workspace.open(workspace)).cases == 1
    assert len(built) == 1
