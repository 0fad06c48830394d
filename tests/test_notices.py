"""Supervision (seed 5.3.2, SPEC §8): overdue stages and 督办通知单 issued once, to the unit, never in
the future, always on one A4 page, with the clerk's text verbatim."""
import re
import shutil
import subprocess

import docx
import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES
from docx.oxml.ns import qn

from toolkit.forms.kinds import FEEDBACK, INTAKE
from toolkit.notices import CONTENT_CHARS, fit

UNIT = "客户创值赋能群"
FOLDER = "archive/2026/11/TS2026110001"
INVESTIGATION = f"{FOLDER}/TS2026110001-督办通知单-调查反馈.docx"
HANDLING = f"{FOLDER}/TS2026110001-督办通知单-处理反馈.docx"


@pytest.fixture
def later(monkeypatch):
    """The clock of the run that issues notices (the intakes are processed at 11-21 09:00)."""
    return lambda moment: monkeypatch.setenv("TOUSU_NOW", moment)


def notice_text(path) -> str:
    return "\n".join(c.text for row in docx.Document(path).tables[0].rows for c in row.cells)


def test_every_overdue_stage_is_listed_and_noticed_once_over_two_runs(tousu, form, workspace, later):
    # received 11-20 15:30, own channel, 非重大: investigation due 11-23, handling 3 days later, 11-26
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit=UNIT)))
    later("2026-11-28T12:00:00")
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-23 23:59")
    assert code == 0 and lines[0]["overdue"] == []
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-27", "--notices")
    assert lines[0] == {"as_of": "2026-11-27T00:00:00", "warnings": [], "overdue": [
        {"number": "TS2026110001", "stage": "investigation", "due": "2026-11-23T23:59:59", "unit": UNIT,
         "notice": INVESTIGATION, "new": True},
        {"number": "TS2026110001", "stage": "handling", "due": "2026-11-26T23:59:59", "unit": UNIT,
         "notice": HANDLING, "new": True}]}
    first = (workspace / INVESTIGATION).read_bytes()
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-28", "--notices")
    assert [(o["notice"], o["new"]) for o in lines[0]["overdue"]] == [(INVESTIGATION, False), (HANDLING, False)]
    assert (workspace / INVESTIGATION).read_bytes() == first
    assert sorted(p.name for p in (workspace / "notices").iterdir()) == \
        ["TS2026110001-督办通知单-处理反馈.docx", "TS2026110001-督办通知单-调查反馈.docx"]
    text = notice_text(workspace / INVESTIGATION)
    for expected in ("TS2026110001", "2026-11-20", "陈美华", UNIT, "2026-11-27", "2026-11-28", "调查反馈已超过时限",
                     "抄表员未入户抄表，疑似估抄。", "逾期未反馈则在部门月度服务绩效考核扣分处理"):
        assert expected in text, expected
    assert "处理反馈已超过时限（原时限 2026-11-26 23:59）" in notice_text(workspace / HANDLING)


def test_the_text_listing_marks_the_notices_of_this_run(tousu, form, later):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit=UNIT)))
    later("2026-11-28T12:00:00")
    _, _, first = tousu("overdue", "--as-of", "2026-11-24", "--notices", json_out=False)
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="王芳", unit=UNIT)))
    _, _, second = tousu("overdue", "--as-of", "2026-11-24", "--notices", json_out=False)
    assert f"TS2026110001  调查反馈  时限 2026-11-23 23:59:59  {UNIT}  督办单（本次新生成）：{INVESTIGATION}" in first
    assert f"督办单（此前已生成）：{INVESTIGATION}" in second
    assert "TS2026110002  调查反馈  时限 2026-11-23 23:59:59  客户创值赋能群  督办单（本次新生成）：" \
           "archive/2026/11/TS2026110002/TS2026110002-督办通知单-调查反馈.docx" in second


def test_notices_for_a_future_moment_are_refused_and_nothing_is_issued(tousu, form, workspace):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit=UNIT)))       # now: 11-21 09:00
    code, _, output = tousu("overdue", "--as-of", "2026-11-27", "--notices")
    assert code == 2
    assert "督办通知单是正式文件，不能按将来的时间生成：截至时间 2026-11-27 00:00 晚于现在（2026-11-21 09:00）" in output
    assert not (workspace / "notices").exists() or not list((workspace / "notices").iterdir())
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-27")          # a look ahead without notices is fine
    assert code == 0 and [o["stage"] for o in lines[0]["overdue"]] == ["investigation", "handling"]


def test_a_case_without_a_unit_is_never_addressed_to_the_clerk(tousu, form, workspace, later):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, target="门卫")))   # no 承办单位, no unit keyword
    later("2026-11-28T12:00:00")
    _, lines, _ = tousu("overdue", "--as-of", "2026-11-24", "--notices")
    assert lines[0]["overdue"][0]["unit"] is None
    assert lines[0]["warnings"] == [("TS2026110001 未指定承办单位：督办通知单无法送达具体单位，请服务管理办公室指定"
                                     "（受理记录单的「承办单位」或反馈单的「责任部门」）。")]
    rows = docx.Document(workspace / INVESTIGATION).tables[0].rows
    assert rows[1].cells[3].text == "未指定承办单位（请服务管理办公室指定）"
    assert "林晓燕" not in notice_text(workspace / INVESTIGATION)                # the 受理人
    _, _, output = tousu("overdue", "--as-of", "2026-11-24", json_out=False)
    assert "未指定承办单位（请服务管理办公室指定）" in output and "提示：TS2026110001 未指定承办单位" in output


def test_the_unit_of_the_feedback_is_the_addressee(tousu, form, workspace, later):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, target="门卫")))
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, unit="管网运营赋能群", completion="未办结",
                                         promised_date="2026-12-05", result="已制定方案，待配件到货。")))
    later("2026-12-20T12:00:00")
    _, lines, _ = tousu("overdue", "--as-of", "2026-12-10", "--notices")
    noticed = [o for o in lines[0]["overdue"] if o["notice"]]
    assert noticed and {o["unit"] for o in noticed} == {"管网运营赋能群"}
    for item in noticed:
        text = notice_text(workspace / item["notice"])
        assert "管网运营赋能群" in text and "林晓燕" not in text


def test_a_plan_on_time_meets_handling_and_supervision_moves_to_the_promise(tousu, form):
    # plan fed back 11-21 08:30 (SPEC §5): investigation and handling met; the first callback 3 days after
    # the plan (11-24); 承诺办结 due at the end of the promised day 12-05
    tousu("process", form(INTAKE, INTAKE_VALUES))
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, completion="未办结", promised_date="2026-12-05",
                                         result="已制定方案，待配件到货。")))
    _, lines, _ = tousu("overdue", "--as-of", "2026-11-27")
    assert [(o["stage"], o["due"], o["notice"]) for o in lines[0]["overdue"]] == \
        [("callback", "2026-11-24T23:59:59", None)]
    _, lines, _ = tousu("overdue", "--as-of", "2026-12-06")
    assert [(o["stage"], o["due"]) for o in lines[0]["overdue"]] == \
        [("promise", "2026-12-05T23:59:59"), ("callback", "2026-11-24T23:59:59")]


def test_clerk_text_stays_verbatim_in_the_notice(tousu, form, workspace, later):
    content = "A&B<c>\"d' 燃气表 </w:t></w:r></w:p><w:tbl> {{ number }} {% if 1 %}"
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit=UNIT, customer_name="O'Brien & <陈>", content=content)))
    later("2026-11-28T12:00:00")
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-24", "--notices")
    assert code == 0, lines
    document = docx.Document(workspace / INVESTIGATION)             # opens: the XML is intact
    table = document.tables[0]
    assert len(document.tables) == 1 and len(table.rows) == 10
    assert table.rows[3].cells[0].paragraphs[0].text == f"投诉内容：{content}"
    assert table.rows[1].cells[1].text == "O'Brien & <陈>"


def test_a_long_content_is_cut_to_its_budget_with_a_pointer():
    pointer = "……（全文见投诉事件档案 archive/2026/11/TS2026110001/）"
    assert fit("短\n内容\t 照录", CONTENT_CHARS, pointer) == "短 内容 照录"
    assert fit("客" * 600, CONTENT_CHARS, pointer) == "客" * 600
    cut = fit("客户反映" * 1250, CONTENT_CHARS, pointer)
    assert cut == ("客户反映" * 150)[:600 - len(pointer)] + pointer and len(cut) == 600
    assert fit("a\x00b\x1fc\ud800", 10) == "abc"                    # never a character XML cannot hold


CONTENT_5000 = ("客户反映燃气表走字过快，" * 417)[:4999] + "完"
# What a page must survive: 5,000 characters of Chinese, of the widest Latin letters and of symbols
# drawn full-width, with a 60-character 投诉人.
LONG = {"TS2026110001": CONTENT_5000, "TS2026110002": "W" * 5000, "TS2026110003": "m" * 5000,
        "TS2026110004": "①" * 5000}


def long_notices(tousu, form, workspace, later) -> list:
    for n, content in enumerate(LONG.values()):
        tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit=UNIT, customer_name=f"{n}号客户" * 15, content=content)))
    later("2026-11-28T12:00:00")
    tousu("overdue", "--as-of", "2026-11-24", "--notices")
    return [workspace / f"archive/2026/11/{number}/{number}-督办通知单-调查反馈.docx" for number in LONG]


def test_a_5000_character_content_is_shortened_with_a_pointer_to_the_case_file(tousu, form, workspace, later):
    text = notice_text(long_notices(tousu, form, workspace, later)[0])
    assert "……（全文见投诉事件档案 archive/2026/11/TS2026110001/）" in text
    assert "完" not in text.split("投诉内容：")[1].split("……")[0]


def test_the_notice_sets_east_asian_fonts_and_a4(tousu, form, workspace, later):
    document = docx.Document(long_notices(tousu, form, workspace, later)[0])
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    fonts = [r._element.rPr.rFonts.get(qn("w:eastAsia")) for p in document.paragraphs for r in p.runs]
    fonts += [r._element.rPr.rFonts.get(qn("w:eastAsia")) for row in document.tables[0].rows
              for c in row.cells for p in c.paragraphs for r in p.runs]
    assert fonts and all(f in ("宋体", "黑体") for f in fonts)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed: page count not checked")
def test_a_notice_with_5000_characters_prints_on_one_a4_page(tousu, form, workspace, later, tmp_path):
    notices = long_notices(tousu, form, workspace, later)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), *map(str, notices)], check=True, capture_output=True, timeout=240)
    for notice in notices:
        pdf = (tmp_path / notice.with_suffix(".pdf").name).read_bytes()
        assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1, notice.name
        assert b"/MediaBox [0 0 595" in pdf or b"/MediaBox[0 0 595" in pdf, notice.name      # A4: 595 x 842 pt
