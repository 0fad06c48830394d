"""`tousu ledger rebuild` takes each form's values from its sidecar and never parses the archived forms
again; `--reread` reads every archived form with today's reader (after a reader fix), rewrites the sidecars
with what it read, and the journal follows — so a later plain rebuild gives the same."""
import json

from conftest import archived_files

from toolkit.workspace import Workspace


def _sidecar(workspace):
    return next(workspace.glob("archive/2026/11/TS2026110001/*-受理记录单-v1.xlsx.meta.json"))


def test_rebuild_reads_sidecars_and_reread_reads_the_forms(tousu, workspace, intake):
    assert tousu("process", intake())[0] == 0
    sidecar = _sidecar(workspace)
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    assert record["fields"]["customer_name"] == "陈美华"
    record["fields"]["customer_name"] = "陈美"            # what an older reader made of the cell, say
    sidecar.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    before = archived_files(workspace)

    def name_in_journal():
        ws = Workspace.open(workspace)
        try:
            return ws.journal.case("TS2026110001")["facts"]["customer_name"]
        finally:
            ws.close()

    code, lines, _ = tousu("ledger", "rebuild")
    assert code == 0 and name_in_journal() == "陈美"           # the sidecar, not the form
    code, lines, _ = tousu("ledger", "rebuild", "--reread")
    assert code == 0 and lines[0]["cases"] == 1 and lines[0]["files"] == 1
    assert name_in_journal() == "陈美华"
    assert json.loads(sidecar.read_text(encoding="utf-8"))["fields"]["customer_name"] == "陈美华"
    code, _, _ = tousu("ledger", "rebuild")
    assert code == 0 and name_in_journal() == "陈美华"
    assert archived_files(workspace) == before
    assert tousu("verify")[1] == [{"ok": True, "findings": []}]


def test_a_form_todays_reader_refuses_keeps_its_record_with_a_note(tousu, workspace, intake):
    assert tousu("process", intake())[0] == 0
    form = next(workspace.glob("archive/2026/11/TS2026110001/*-受理记录单-v1.xlsx"))
    form.write_bytes(b"no longer a workbook")
    code, lines, _ = tousu("ledger", "rebuild", "--reread")
    assert code == 0
    assert any(m.startswith(f"{form.relative_to(workspace).as_posix()}：按当前程序重读未通过") and
               m.endswith("沿用归档记录中的内容。") for m in lines[0]["messages"]), lines
