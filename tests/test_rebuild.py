"""The journal is derived state: deleted, it is rebuilt from archive/ alone with the same cases,
states and files, and numbering continues after the highest archived number."""
import shutil
from datetime import datetime

from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED

from toolkit.forms.kinds import CALLBACK, EXTENSION, FEEDBACK, INTAKE
from toolkit.rebuild import rebuild_journal
from toolkit.workspace import Workspace


def snapshot(workspace):
    return Workspace.open(workspace).journal.snapshot()


def test_rebuild_reproduces_cases_states_and_files(tousu, form, workspace):
    cluster = [form(INTAKE, dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"1390000000{i}", target="维修班",
                                 received_at=datetime(2026, 11, 19, 8 + 2 * i), content=f"维修迟到{i}"))
               for i in range(5)]
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, phone="139 0593 0000", received_at=datetime(2026, 11, 20))),
          *cluster)
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, customer_name="陈美花", phone="13905930000",
                                         received_at=datetime(2026, 11, 20), **REVIEWED)))
    tousu("process", form(CALLBACK, dict(number="TS2026110001", callback_date="2026-11-21 08:50", caller="周洁",
                                         method="电话", evaluation="不满意", notes="仍有异议")))
    tousu("process", form(EXTENSION, dict(number="TS2026110002", unit="管网运营赋能群", reason="待配件",
                                          extend_to=datetime(2026, 11, 30), approval="同意")))
    before = snapshot(workspace)
    assert len(before["cases"]) == 6 and len(before["files"]) == 9
    shutil.rmtree(workspace / ".tousu")
    assert rebuild_journal(Workspace.open(workspace)).cases == 6
    assert snapshot(workspace) == before
    code, lines, _ = tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="新客户", phone="13600000000")))
    assert lines[0]["number"] == "TS2026110007"


def test_duplicates_are_still_recognised_after_a_rebuild(tousu, form, workspace):
    path = form(INTAKE, INTAKE_VALUES)
    tousu("process", path)
    shutil.rmtree(workspace / ".tousu")
    rebuild_journal(Workspace.open(workspace))
    code, lines, _ = tousu("process", path)
    assert (lines[0]["status"], lines[0]["number"]) == ("duplicate", "TS2026110001")
