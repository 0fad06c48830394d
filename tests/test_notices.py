"""Supervision (seed 5.3.2, SPEC §8): overdue stages and 督办通知单 issued once."""
import re
import shutil
import subprocess

import docx
import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES
from docx.oxml.ns import qn

from toolkit.forms.kinds import FEEDBACK, INTAKE


def test_an_intake_of_11_20_is_overdue_on_11_27_and_gets_one_notice_over_two_runs(tousu, form, workspace):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit="客户创值赋能群")))
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-23 23:59")
    assert code == 0 and lines[0]["overdue"] == []
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-27", "--notices")
    notice = "archive/2026/11/TS2026110001/TS2026110001-督办通知单-调查反馈.docx"
    assert lines[0] == {"as_of": "2026-11-27T00:00:00", "overdue": [
        {"number": "TS2026110001", "stage": "investigation", "due": "2026-11-23T23:59:59",
         "unit": "客户创值赋能群", "notice": notice}]}
    first = (workspace / notice).read_bytes()
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-28", "--notices")
    assert lines[0]["overdue"][0]["notice"] == notice
    assert (workspace / notice).read_bytes() == first
    assert sorted(p.name for p in (workspace / "notices").iterdir()) == ["TS2026110001-督办通知单-调查反馈.docx"]
    text = "\n".join(c.text for row in docx.Document(workspace / notice).tables[0].rows for c in row.cells)
    for expected in ("TS2026110001", "2026-11-20", "陈美华", "客户创值赋能群", "2026-11-27", "2026-11-28",
                     "抄表员未入户抄表", "逾期未反馈则在部门月度服务绩效考核扣分处理"):
        assert expected in text, expected


def test_a_plan_only_feedback_moves_supervision_to_handling(tousu, form):
    tousu("process", form(INTAKE, INTAKE_VALUES))
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, completion="未办结", promised_date="2026-12-05",
                                         result="已制定方案，待配件到货。")))
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-27")
    assert [(o["stage"], o["due"], o["notice"]) for o in lines[0]["overdue"]] == \
        [("handling", "2026-11-26T23:59:59", None)]


def test_the_notice_sets_east_asian_fonts_and_a4(tousu, form, workspace):
    tousu("process", form(INTAKE, INTAKE_VALUES))
    tousu("overdue", "--as-of", "2026-11-27", "--notices")
    document = docx.Document(next((workspace / "notices").iterdir()))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    fonts = [r._element.rPr.rFonts.get(qn("w:eastAsia")) for p in document.paragraphs for r in p.runs]
    fonts += [r._element.rPr.rFonts.get(qn("w:eastAsia")) for row in document.tables[0].rows
              for c in row.cells for p in c.paragraphs for r in p.runs]
    assert fonts and all(f in ("宋体", "黑体") for f in fonts)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_the_notice_prints_on_one_a4_page(tousu, form, workspace, tmp_path):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, content="客户反映" * 60)))
    tousu("overdue", "--as-of", "2026-11-27", "--notices")
    notice = next((workspace / "notices").iterdir())
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(notice)],
                   check=True, capture_output=True, timeout=180)
    pdf = (tmp_path / notice.with_suffix(".pdf").name).read_bytes()
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
