"""`tousu process` / `check` / `init` end to end through click's CliRunner."""
import hashlib
import json
from datetime import datetime

import docx
import openpyxl
from conftest import NOW, archived_files


def test_accepted_intake_json_is_exactly_the_spec_shape(tousu, intake):
    path = intake()
    code, lines, _ = tousu("process", path)
    assert code == 0
    assert lines == [{
        "file": path.name, "status": "accepted", "form": "intake", "number": "TS2026110001",
        "severity": "非重大", "suspected_major": False, "major_reasons": [],
        "deadlines": {"investigation": "2026-11-23T23:59:59", "handling": "2026-11-26T23:59:59",
                      "callback": None, "appeal": None},
        "problems": [], "warnings": []}]


def test_number_is_written_into_the_archived_copy_with_provenance(tousu, workspace, intake):
    xlsx, word = intake(), intake(".docx", customer_name="王建国", phone="0593-8231456")
    tousu("process", xlsx, word)
    folder = "archive/2026/11"
    assert archived_files(workspace) == [
        f"{folder}/TS2026110001/TS2026110001-受理记录单-v1.xlsx",
        f"{folder}/TS2026110001/TS2026110001-受理记录单-v1.xlsx.meta.json",
        f"{folder}/TS2026110002/TS2026110002-受理记录单-v1.docx",
        f"{folder}/TS2026110002/TS2026110002-受理记录单-v1.docx.meta.json"]
    sheet = openpyxl.load_workbook(workspace / folder / "TS2026110001/TS2026110001-受理记录单-v1.xlsx").active
    assert (sheet["A4"].value, sheet["B4"].value) == ("投诉编号", "TS2026110001")
    table = docx.Document(workspace / folder / "TS2026110002/TS2026110002-受理记录单-v1.docx").tables[0]
    assert table.cell(2, 1).text == "TS2026110002"
    meta = json.loads((workspace / folder / "TS2026110001/TS2026110001-受理记录单-v1.xlsx.meta.json").read_text())
    assert meta["original_name"] == xlsx.name and meta["arrived_at"] == NOW
    assert meta["sha256"] == hashlib.sha256(xlsx.read_bytes()).hexdigest()
    assert (meta["form"], meta["version"], meta["number"]) == ("intake", 1, "TS2026110001")
    assert meta["fields"]["phone"] == "13805931234" and meta["submitted_by"]
    assert xlsx.exists() and word.exists()            # process never moves its inputs


def test_same_bytes_twice_is_a_duplicate_without_new_number(tousu, workspace, intake):
    path = intake()
    tousu("process", path)
    code, lines, _ = tousu("process", path)
    assert code == 0 and lines[0]["status"] == "duplicate" and lines[0]["number"] == "TS2026110001"
    assert len(archived_files(workspace)) == 2
    code, lines, _ = tousu("process", intake(customer_name="另一位"))
    assert lines[0]["number"] == "TS2026110002"


def test_sequence_runs_per_month_of_receipt(tousu, intake):
    forms = [intake(received_at=datetime(2026, 11, 1 + i, 10)) for i in range(3)]
    forms.append(intake(received_at=datetime(2026, 10, 31, 23, 59), customer_name="十月"))
    code, lines, _ = tousu("process", *forms)
    assert [l["number"] for l in lines] == ["TS2026110001", "TS2026110002", "TS2026110003", "TS2026100001"]


def test_a_number_tousu_never_issued_does_not_move_the_sequence(tousu, intake):
    code, lines, _ = tousu("process", intake(number="TS2026110042"), intake(customer_name="新客户"))
    assert [l["number"] for l in lines] == ["TS2026110001", "TS2026110002"]


def test_same_number_same_customer_is_a_new_version(tousu, workspace, intake):
    tousu("process", intake())
    code, lines, _ = tousu("process", intake(number="TS2026110001", demand="补充：要求上门核表"))
    assert code == 0 and lines[0]["number"] == "TS2026110001"
    assert "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v2.xlsx" in archived_files(workspace)


def test_number_of_another_customer_is_refused(tousu, workspace, intake):
    tousu("process", intake())
    other = intake(number="TS2026110001", customer_name="李四", phone="13900000000")
    code, lines, _ = tousu("process", other)
    assert code == 1 and lines[0]["status"] == "refused"
    assert lines[0]["problems"][0]["field"] == "投诉编号" and "另一位客户" in lines[0]["problems"][0]["message"]
    assert len(archived_files(workspace)) == 2


def test_path_escape_in_number_is_refused(tousu, workspace, intake):
    code, lines, _ = tousu("process", intake(number="../../etc/passwd"))
    assert code == 1 and lines[0]["problems"][0]["field"] == "投诉编号"
    assert archived_files(workspace) == []


def test_blocking_errors_refuse_and_archive_nothing(tousu, workspace, intake):
    cases = {"投诉内容": intake(content=None), "受理时间": intake(received_at="上周"),
             "受理渠道": intake(channel=None)}
    future = intake(received_at=datetime(2026, 11, 21, 9, 16))     # beyond the 15 minutes of clock skew
    for field, path in cases.items():
        before = path.read_bytes()
        code, lines, _ = tousu("process", path)
        assert code == 1 and lines[0]["status"] == "refused" and lines[0]["number"] is None
        assert [p["field"] for p in lines[0]["problems"] if p["level"] == "error"] == [field]
        assert path.read_bytes() == before
    code, lines, _ = tousu("process", future)
    assert code == 1 and "晚于当前时间" in lines[0]["problems"][0]["message"]
    assert archived_files(workspace) == []
    code, lines, _ = tousu("process", intake())
    assert lines[0]["number"] == "TS2026110001"          # refusals never consume a number


def test_defects_are_listed_but_the_complaint_is_registered(tousu, intake):
    code, lines, _ = tousu("process", intake(customer_name=None, phone="12345", severity=None,
                                            unit="客户创值群", channel="上门反映"))
    assert code == 0 and lines[0]["status"] == "accepted" and lines[0]["severity"] == "非重大"
    problems = {p["field"]: p for p in lines[0]["problems"]}
    assert set(problems) == {"客户姓名", "联系方式", "投诉类别", "受理渠道", "承办单位"}
    assert all(p["level"] == "defect" for p in problems.values())
    assert problems["联系方式"]["cell"] == "B3"
    assert "客户创值赋能群" in problems["承办单位"]["message"]      # the closest unit is suggested


def test_external_transfer_needs_required_date(tousu, intake):
    code, lines, _ = tousu("process", intake(channel="市政府12345热线批转"))
    # no 要求办结日期: the 自有渠道 limits stand in (policy fallback_class), with a defect
    assert code == 0 and lines[0]["deadlines"]["investigation"] == "2026-11-23T23:59:59"
    assert lines[0]["deadlines"]["handling"] == "2026-11-26T23:59:59"
    assert [p["field"] for p in lines[0]["problems"]] == ["要求办结日期"]
    assert "已按「自有渠道」时限计算" in lines[0]["problems"][0]["message"]
    code, lines, _ = tousu("process", intake(channel="媒体批转", required_date=datetime(2026, 11, 25),
                                            customer_name="媒体"))
    assert lines[0]["deadlines"]["investigation"] == lines[0]["deadlines"]["handling"] == "2026-11-25T23:59:59"


def test_staff_marked_major_takes_major_deadlines(tousu, intake):
    code, lines, _ = tousu("process", intake(severity="重大", channel="XX能源服务质量监督热线批转"))
    assert lines[0]["severity"] == "重大"
    assert lines[0]["deadlines"]["investigation"] == "2026-11-21T23:59:59"
    assert lines[0]["deadlines"]["handling"] == "2026-11-22T23:59:59"


def test_check_writes_nothing_and_gives_no_number(tousu, workspace, intake):
    code, lines, _ = tousu("check", intake())
    assert code == 0 and lines[0]["status"] == "accepted" and lines[0]["number"] is None
    assert lines[0]["deadlines"]["investigation"] == "2026-11-23T23:59:59"
    assert not workspace.exists()
    code, lines, _ = tousu("check", intake(content=None))
    assert code == 1 and lines[0]["status"] == "refused"


def test_human_output_is_a_chinese_summary(tousu, intake):
    code, _, output = tousu("process", intake(phone="12345"), json_out=False)
    assert code == 0
    assert "结果：已受理" in output and "投诉编号：TS2026110001" in output
    assert "调查反馈时限：2026-11-23 23:59:59 前" in output and "【联系方式】（B3）" in output


def test_init_creates_the_layout(tousu, tmp_path):
    code, _, output = tousu("init", tmp_path / "共享", json_out=False)
    assert code == 0
    for folder in ("inbox", "archive", "rejected", "receipts", "ledger", "reports", "notices", ".tousu"):
        assert (tmp_path / "共享" / folder).is_dir()
    assert (tmp_path / "共享" / ".tousu" / "journal.sqlite3").exists()


def test_usage_error_exits_2(tousu):
    code, _, _ = tousu("due", "--channel", "客服热线", "--severity", "很重大", "--received", "2026-11-20")
    assert code == 2


def test_working_calendar_year_unknown_stops_with_exit_2_and_no_number(tousu, workspace, intake, monkeypatch):
    monkeypatch.setenv("TOUSU_NOW", "2026-12-31T12:00:00")
    workspace.mkdir()
    (workspace / "policy.toml").write_text('[deadlines]\ncalendar = "working"\n', encoding="utf-8")
    code, lines, output = tousu("process", intake(received_at=datetime(2026, 11, 20, 15, 30)))
    assert code == 0 and lines[0]["deadlines"]["investigation"] == "2026-11-25T23:59:59"
    code, lines, output = tousu("process", intake(received_at=datetime(2026, 12, 30, 10), customer_name="年底"))
    assert code == 2 and "2027" in output and lines == []
    (workspace / "policy.toml").write_text(
        '[deadlines]\ncalendar = "working"\n[calendar]\nholidays = ["2027-01-01"]\nyears = [2027]\n', encoding="utf-8")
    code, lines, _ = tousu("process", intake(received_at=datetime(2026, 12, 30, 10), customer_name="年底"))
    assert (code, lines[0]["number"]) == (0, "TS2026120001")
    assert lines[0]["deadlines"]["investigation"] == "2027-01-05T23:59:59"


def test_template_carries_every_field_and_is_refused_blank(tousu):
    from toolkit.paths import TEMPLATES
    for suffix in (".xlsx", ".docx"):
        code, lines, _ = tousu("check", TEMPLATES / f"附件1 客户投诉受理记录单{suffix}")
        assert code == 1 and lines[0]["form"] == "intake"
        missing = {p["field"] for p in lines[0]["problems"]}
        assert {"受理时间", "受理渠道", "投诉内容"} <= missing
        unit = [(p["level"], p["message"][:7]) for p in lines[0]["problems"] if p["field"] == "承办单位"]
        assert unit == [("defect", "未指定承办单位")]      # optional: blank is only "no unit found"
    book = openpyxl.load_workbook(TEMPLATES / "附件1 客户投诉受理记录单.xlsx")
    labels = {c.value for row in book.active.iter_rows() for c in row}
    assert {"承办单位", "重大情形", "要求办结日期"} <= labels
    assert "投诉编号" in book.defined_names
