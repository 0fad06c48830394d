"""Forms laid out the way clerks make them, built by hand (not by the toolkit's builder)."""
from datetime import datetime

import docx
import openpyxl
import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from toolkit.clock import Clock
from toolkit.forms.build import LAYOUTS, build, fill_sheet, shown
from toolkit.forms.grid import load_docx, load_xlsx
from toolkit.forms.kinds import INTAKE, KINDS
from toolkit.forms.reader import read
from toolkit.paths import TEMPLATES
from toolkit.policy import load_policy
from toolkit.process import Env, check

CLOCK = Clock(datetime(2026, 11, 21, 9, 0))


def checked(path):
    return check(path, load_policy(), CLOCK)


def test_labels_moved_and_merged_value_cells(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws["C3"] = "客户投诉受理记录单"
    ws.merge_cells("C3:H3")
    layout = {"C5": "客 户 姓 名：", "D5": "郑小梅", "F5": "联系电话", "G5": 13959300088,
              "C6": "客户地址", "D6": "沙县府西路12号", "F6": "投诉对象：", "G6": "施工队",
              "C7": "受理时间:", "D7": "2026年11月17日14时30分", "F7": "受理渠道", "G7": "微信公众号",
              "C8": "受理人", "D8": "张敏", "F8": "投诉类别", "G8": "重大投诉□ 非重大投诉☑",
              "C9": "投诉内容", "D9": "绿化带未恢复", "C10": "客户要求", "D10": "恢复绿化", "C11": "投诉编号"}
    for ref, value in layout.items():
        ws[ref] = value
    for row in range(5, 9):
        ws.merge_cells(f"D{row}:E{row}")
        ws.merge_cells(f"G{row}:H{row}")
    ws.merge_cells("D9:H9")
    ws.merge_cells("D10:H10")
    ws.merge_cells("D11:E11")
    path = tmp_path / "moved.xlsx"
    book.save(path)
    receipt = checked(path)
    assert receipt.status == "accepted" and receipt.problems == []
    assert receipt.deadlines.investigation == datetime(2026, 11, 20, 23, 59, 59)
    assert receipt.severity == "非重大"


def test_header_row_layout_and_ticks_in_their_own_cells(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["附件1 客户投诉受理记录单"])
    ws.append(["客户姓名", "客户地址", "联系方式", "投诉对象", "受理时间", "受理渠道", "受理人", "投诉编号"])
    ws.append(["李强", "三元区1号", "0593-8231456", "营业厅", datetime(2026, 11, 20, 10, 0), "营业厅", "王芳"])
    ws.append(["投诉类别", "重大投诉", "√", "非重大投诉", "口"])
    ws.append(["投诉内容", "窗口人员态度恶劣"])
    ws.append(["客户要求", "道歉"])
    path = tmp_path / "header.xlsx"
    book.save(path)
    receipt = checked(path)
    assert receipt.status == "accepted", receipt.problems
    assert receipt.severity == "重大" and receipt.problems == []
    assert receipt.deadlines.investigation == datetime(2026, 11, 22, 23, 59, 59)


def test_phone_typed_as_number_keeps_its_digits(tmp_path, intake):
    landline = checked(intake(phone=5932856677))
    assert landline.problems == []
    book = openpyxl.load_workbook(intake(phone=13805931234))
    assert book.active["B3"].value == 13805931234          # really stored as a number
    reading = read(load_xlsx(intake(phone=5932856677).read_bytes()), INTAKE,
                   Env(CLOCK.now(), load_policy()))
    assert reading.value("phone") == "0593-2856677"


def test_full_width_digits_everywhere(intake):
    receipt = checked(intake(received_at="２０２６－１１－２０　１５：３０", phone="１３８０５９３１２３４"))
    assert receipt.problems == []
    assert receipt.deadlines.investigation == datetime(2026, 11, 23, 23, 59, 59)


def _wingdings_box(cell, ticked: bool, text: str):
    """WPS/Word check box: a w:sym in the Wingdings 2 font, as WPS writes it."""
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run()
    sym = OxmlElement("w:sym")
    sym.set(qn("w:font"), "Wingdings 2")
    sym.set(qn("w:char"), "F052" if ticked else "F0A3")
    run._r.append(sym)
    paragraph.add_run(text)


def test_word_table_intake_with_symbol_font_ticks_and_vertical_merge(tmp_path):
    document = docx.Document()
    document.add_paragraph("附件1")
    document.add_paragraph("客户投诉受理记录单")
    document.add_paragraph("投诉编号：")
    table = document.add_table(rows=7, cols=4)
    cells = [("客户姓名", "周敏", "联系方式", "13600000001"),
             ("客户地址", "梅列区2号", "投诉对象", "维修班"),
             ("受理时间", "2026/11/20 15:30", "受理渠道", "投诉专线0593-2856677"),
             ("受理人", "吴倩", "投诉类别", None),
             ("投诉内容", "维修人员迟到三小时", None, None),
             (None, None, None, None),
             ("客户要求", "赔偿误工", None, None)]
    for r, row in enumerate(cells):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text
    _wingdings_box(table.cell(3, 3), False, "重大投诉 ")
    _wingdings_box(table.cell(3, 3), True, "非重大投诉")
    table.cell(4, 0).merge(table.cell(5, 0))           # 投诉内容 label spans two rows
    table.cell(4, 1).merge(table.cell(5, 3))
    table.cell(6, 1).merge(table.cell(6, 3))
    path = tmp_path / "word.docx"
    document.save(path)
    receipt = checked(path)
    assert receipt.status == "accepted" and receipt.form == "intake"
    assert receipt.severity == "非重大" and receipt.problems == []
    assert receipt.deadlines.handling == datetime(2026, 11, 26, 23, 59, 59)


def test_word_problem_names_table_position(tmp_path, intake):
    receipt = checked(intake(".docx", phone="12345"))
    phone = [p for p in receipt.problems if p.field == "联系方式"]
    assert phone[0].cell == "表1 第2行第2列" and phone[0].level == "defect"


def test_excel_problem_names_cell(intake):
    receipt = checked(intake(content=None))
    assert receipt.status == "refused"
    assert [(p.field, p.cell, p.level) for p in receipt.problems] == [("投诉内容", "B6", "error")]


def test_form_without_title_is_recognised_by_its_labels(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    for label, value in [("客户姓名", "赵六"), ("客户地址", "1号"), ("联系方式", "13800000000"),
                         ("投诉对象", "客服"), ("受理时间", "2026-11-20 8:00"), ("受理渠道", "现场"),
                         ("受理人", "钱七"), ("投诉类别", "非重大"), ("投诉内容", "排队太久"), ("客户要求", "改进")]:
        ws.append([label, value])
    path = tmp_path / "untitled.xlsx"
    book.save(path)
    assert checked(path).form == "intake"


def test_title_in_instructions_does_not_confuse_recognition(tmp_path, intake):
    # the intake's 说明 mentions 调查处理反馈单 below the table; the title above decides
    receipt = checked(intake(".docx"))
    assert receipt.form == "intake"


def test_label_and_value_in_one_cell(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"] = "客户投诉受理记录单"
    ws["A2"] = "客户姓名：孙八    联系方式：13911112222"
    ws["A3"] = "受理时间：2026年11月20日9时"
    ws["A4"] = "受理渠道：客服热线"
    ws["A5"] = "投诉内容：燃气表漏气无人处理"
    path = tmp_path / "inline.xlsx"
    book.save(path)
    receipt = checked(path)
    assert receipt.status == "accepted"
    assert {p.field for p in receipt.problems} == {"客户地址", "投诉对象", "受理人", "投诉类别", "客户要求", "投诉编号",
                                                        "承办单位"}


def test_dates_without_year_take_the_arrival_year(intake):
    receipt = checked(intake(received_at="11月20日15时30分"))
    assert receipt.deadlines.investigation == datetime(2026, 11, 23, 23, 59, 59)


# ------------------------------------------------------------------ one form per sheet (the button workbook)
def _workbook(tmp_path, filled: dict, active: str, stray: dict | None = None):
    """Every form kind on its own sheet, as in templates/tousu_excel.xlsm; `filled` maps a kind key to
    its values, `stray` to values typed into an otherwise blank form."""
    book = openpyxl.Workbook()
    for index, kind in enumerate(KINDS):
        ws = book.active if index == 0 else book.create_sheet()
        fill_sheet(ws, kind, filled.get(kind.key) or (stray or {}).get(kind.key) or {})
    book.active = [kind.key for kind in KINDS].index(active)
    path = tmp_path / f"workbook-{active}.xlsx"
    book.save(path)
    return path


STRAY_FEEDBACK = {"feedback": {"number": "反馈日期", "feedback_date": "下周", "unit": "某部门", "situation": "草稿"}}


def test_a_form_is_read_from_the_sheet_holding_its_title(tmp_path):
    path = _workbook(tmp_path, {"intake": INTAKE_VALUES}, "intake", STRAY_FEEDBACK)
    receipt = checked(path)
    assert receipt.status == "accepted" and receipt.form == "intake", receipt.problems
    assert receipt.problems == []
    assert receipt.number is None                      # 调查处理反馈单's 投诉编号 never leaks in
    reading = read(load_xlsx(path.read_bytes()), INTAKE, Env(CLOCK.now(), load_policy()))
    assert (reading.value("customer_name"), reading.where("customer_name")) == ("陈美华", "B2")
    assert reading.value("received_at") == datetime(2026, 11, 20, 15, 30)


def test_the_active_sheet_decides_and_other_sheets_keep_their_prefix(tmp_path):
    path = _workbook(tmp_path, {"feedback": FEEDBACK_VALUES, "intake": dict(INTAKE_VALUES, customer_name="别人")},
                     "feedback")
    receipt = checked(path)
    assert receipt.form == "feedback" and receipt.number == "TS2026110001"
    reading = read(load_xlsx(path.read_bytes()), INTAKE, Env(CLOCK.now(), load_policy()))
    assert (reading.value("customer_name"), reading.where("customer_name")) == ("别人", "受理记录单!B2")


def test_the_shipped_button_workbook_takes_a_filled_intake(tmp_path):
    book = openpyxl.load_workbook(TEMPLATES / "tousu_excel.xlsm", keep_vba=True)
    ws, by_label = book["受理记录单"], {spec.label: spec for spec in INTAKE.fields}
    for label in [cell for row in ws.iter_rows() for cell in row if cell.value in by_label]:
        spec = by_label[label.value]
        if INTAKE_VALUES.get(spec.key) is not None:
            ws.cell(label.row, label.column + 1, shown(spec, INTAKE_VALUES[spec.key]))
    book.active = book.sheetnames.index("受理记录单")
    path = tmp_path / "tousu_excel.xlsm"
    book.save(path)
    receipt = checked(path)
    assert (receipt.status, receipt.form, receipt.problems) == ("accepted", "intake", [])


def test_of_two_sheets_with_the_same_form_the_active_one_is_read(tmp_path):
    book = openpyxl.Workbook()
    fill_sheet(book.active, INTAKE, dict(INTAKE_VALUES, customer_name="旧稿"))
    fill_sheet(book.create_sheet(), INTAKE, dict(INTAKE_VALUES, customer_name="新稿"))
    book.active = 1
    path = tmp_path / "two-intakes.xlsx"
    book.save(path)
    reading = read(load_xlsx(path.read_bytes()), INTAKE, Env(CLOCK.now(), load_policy()))
    assert (reading.value("customer_name"), reading.where("customer_name")) == ("新稿", "B2")


# ------------------------------------------------------------------ a value that reads like a label
@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("channel", ["电话", "手机"])
def test_a_value_equal_to_another_fields_label_is_a_value(intake, suffix, layout, channel):
    receipt = checked(intake(suffix, layout, channel=channel))
    assert receipt.status == "accepted"
    assert [(p.field, p.level) for p in receipt.problems] == [("受理渠道", "defect")]   # an unknown channel
    assert f"受理渠道「{channel}」不在渠道清单中" in receipt.problems[0].message
    assert receipt.deadlines.investigation == datetime(2026, 11, 23, 23, 59, 59)       # 自有渠道, 3 days


def test_a_clerks_form_with_alias_labels_and_the_channel_row_first(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    for row in (["客户投诉受理记录单"], ["受理渠道", "手机", "受理人", "王芳"], ["电话", "13805931234", "客户姓名", "李强"],
                ["受理时间", "2026-11-20 10:00", "投诉内容", "燃气费多收"]):
        ws.append(row)
    path = tmp_path / "alias.xlsx"
    book.save(path)
    reading = read(load_xlsx(path.read_bytes()), INTAKE, Env(CLOCK.now(), load_policy()))
    assert (reading.value("channel"), reading.where("channel")) == ("手机", "B2")
    assert (reading.value("phone"), reading.where("phone")) == ("13805931234", "B3")


@pytest.mark.parametrize("rows, channel_cell", [
    ([["客户姓名", "李强", "客户地址", "三元区1号"], ["受理渠道", "手机", "受理人", "王芳"],          # annex pairs
      ["投诉内容", "燃气费多收", None, None], ["受理时间", "2026-11-20 10:00", None, None]], "B3"),
    ([["客户姓名", "李强"], ["受理渠道", "电话"], ["受理人", "王芳"], ["投诉内容", "燃气费多收"],     # one per row
      ["受理时间", "2026-11-20 10:00"]], "B3"),
    ([["客户姓名", "受理时间", "受理渠道", "受理人", "投诉内容"],                                  # a header row
      ["李强", "2026-11-20 10:00", "电话", "王芳", "燃气费多收"]], "C3"),
])
def test_a_value_reading_as_a_label_the_form_does_not_print(tmp_path, rows, channel_cell):
    """No 联系方式 on the form at all: 电话/手机 is still the value of the 受理渠道 beside or above it."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["客户投诉受理记录单"])
    for row in rows:
        ws.append(row)
    path = tmp_path / "no-phone-label.xlsx"
    book.save(path)
    reading = read(load_xlsx(path.read_bytes()), INTAKE, Env(CLOCK.now(), load_policy()))
    assert reading.where("channel") == channel_cell and reading.value("channel") in ("电话", "手机")
    assert reading.value("receiver") == "王芳" and not reading.fields["phone"].found
    assert reading.errors == []


FILLED = {"intake": INTAKE_VALUES, "feedback": dict(FEEDBACK_VALUES, **REVIEWED),
          "callback": {"number": "TS2026110001", "callback_date": datetime(2026, 11, 21, 8), "caller": "周洁",
                       "method": "电话", "evaluation": "满意", "notes": "电话回访"},
          "extension": {"number": "TS2026110001", "unit": "客户创值赋能群", "extend_to": datetime(2026, 11, 28),
                        "reason": "等待配件", "approval": "同意"},
          "appeal": {"number": "TS2026110001", "unit": "客户创值赋能群", "appeal_date": datetime(2026, 11, 21),
                     "reason": "非我方责任", "ruling": "维持"}}


@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.key)
def test_every_label_of_every_built_form_is_found_blank_or_filled(tmp_path, kind, layout, suffix):
    """No label of a form the toolkit lays out is ever taken for a value, whatever is (not) filled in."""
    for values in ({}, FILLED[kind.key]):
        path = build(kind, values, tmp_path / f"{kind.key}{suffix}", layout)
        source = (load_docx if suffix == ".docx" else load_xlsx)(path.read_bytes())
        reading = read(source, kind, Env(CLOCK.now(), load_policy()))
        assert [key for key, fv in reading.fields.items() if not fv.found] == []
        assert [key for key, value in values.items() if reading.fields[key].raw is None] == []


def test_a_blank_value_between_two_labels_leaves_both_labels(tmp_path):
    """受理人 beside an empty 受理渠道 is still the label 受理人: only an alias (电话) is read as a value."""
    book = openpyxl.Workbook()
    ws = book.active
    for row in (["客户投诉受理记录单"], ["客户姓名", "李强", None, None], ["受理渠道", None, "受理人", None],
                ["投诉内容", "燃气费多收"], ["受理时间", "2026-11-20 10:00"]):
        ws.append(row)
    path = tmp_path / "blank-pair.xlsx"
    book.save(path)
    reading = read(load_xlsx(path.read_bytes()), INTAKE, Env(CLOCK.now(), load_policy()))
    assert (reading.value("channel"), reading.value("receiver")) == (None, None)
    assert reading.fields["receiver"].found and [p.field for p in reading.errors] == ["受理渠道"]


def test_a_word_line_with_a_second_label_after_a_gap_holds_no_number_and_keeps_it(tousu, tmp_path, workspace):
    """Found in review: '投诉编号：        日期：2026年11月' was read as the number 「日期：2026年11月」."""
    import docx

    from toolkit.forms.build import build_docx
    path = build_docx(INTAKE, INTAKE_VALUES, tmp_path / "正文两栏.docx")
    document = docx.Document(path)
    for row in document.tables[0].rows:
        for cell in row.cells:
            if cell.text.strip() == "投诉编号":
                cell.paragraphs[0].runs[0].text = "备注"
    document.add_paragraph("投诉编号：        日期：2026年11月")
    document.save(path)
    code, lines, _ = tousu("process", path)
    assert (code, lines[0]["number"]) == (0, "TS2026110001"), lines
    archived = docx.Document(workspace / "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.docx")
    assert "投诉编号：TS2026110001        日期：2026年11月" in [p.text for p in archived.paragraphs]


def test_a_workbook_saved_with_a_blank_form_active_is_read_from_the_filled_one(tmp_path):
    """Found in review: the button workbook filled on 受理记录单, saved with 调查处理反馈单 active."""
    from toolkit.forms.kinds import FEEDBACK
    from toolkit.forms.reader import read, recognise
    from toolkit.policy import load_policy
    from toolkit.process import Env
    book = openpyxl.Workbook()
    fill_sheet(book.active, INTAKE, INTAKE_VALUES)
    fill_sheet(book.create_sheet(), FEEDBACK, {})
    book.active = 1                                      # the blank feedback form is the active sheet
    path = tmp_path / "按钮工作簿.xlsx"
    book.save(path)
    source = load_xlsx(path.read_bytes())
    assert recognise(source, KINDS) is INTAKE
    reading = read(source, INTAKE, Env(datetime(2026, 11, 21, 9), load_policy()))
    assert reading.errors == [] and reading.value("customer_name") == "陈美华"
