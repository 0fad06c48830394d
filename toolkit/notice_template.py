"""The 附件4 投诉处理督办通知单 template (docxtpl tags in a Word table laid out like the annex):
A4, one page, East-Asian font set on every run so Chinese never falls back to a Latin font."""
from pathlib import Path

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

FONT = "宋体"
TITLE_FONT = "黑体"
REQUIREMENT = ("依据XX有限公司客户投诉管理办法要求，请按照督办单应办结时限要求将该投诉调查、处理等相关信息"
               "反馈服务管理办公室。逾期未反馈则在部门月度服务绩效考核扣分处理。")


def _run(paragraph, text: str, size: float = 12, bold: bool = False, font: str = FONT):
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = Pt(size)
    run.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def _cell(table, row: int, col: int, text: str, bold: bool = False, span: int = 1, height_lines: int = 0):
    cell = table.cell(row, col)
    if span > 1:
        cell = cell.merge(table.cell(row, col + span - 1))
    paragraph = cell.paragraphs[0]
    _run(paragraph, text, bold=bold)
    for _ in range(height_lines):
        cell.add_paragraph()
    return cell


def write_notice_template(path: Path) -> Path:
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.2)
    _run(document.add_paragraph(), "附件4", 12)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, "投诉处理督办通知单", 18, True, TITLE_FONT)
    table = document.add_table(rows=10, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    pairs = [("投诉编号", "{{ number }}", "投诉日期", "{{ complaint_date }}"),
             ("投诉人", "{{ complainant }}", "承办人", "{{ handler }}"),
             ("告知日期", "{{ notice_date }}", "应办结日期", "{{ due_date }}")]
    for row, (a, b, c, d) in enumerate(pairs):
        _cell(table, row, 0, a, True), _cell(table, row, 1, b), _cell(table, row, 2, c, True), _cell(table, row, 3, d)
    _cell(table, 3, 0, "投诉内容：{{ content }}", span=4, height_lines=2)
    _cell(table, 4, 0, "督办事项：{{ stage }}已超过时限（原时限 {{ original_due }}）", span=4)
    _cell(table, 5, 0, "督办要求：" + REQUIREMENT, span=4)
    _cell(table, 6, 0, "该投诉未及时反馈原因简述：", span=4, height_lines=5)
    _cell(table, 7, 0, "反馈人：", span=4, height_lines=1)
    _cell(table, 8, 0, "责任部门", True), _cell(table, 8, 1, "{{ unit }}"), _cell(table, 8, 2, "责任人", True)
    _cell(table, 8, 3, "{{ person }}")
    for col, (text, bold) in enumerate((("责任部门", True), ("", False), ("责任人", True), ("", False))):
        _cell(table, 9, col, text, bold)
    for row in table.rows:
        row.cells[0].width = row.cells[2].width = Cm(3)
        row.cells[1].width = row.cells[3].width = Cm(5)
    _run(document.add_paragraph(), "说明：将此单填写完整，与客户投诉处理反馈单一并反馈至服务管理办公室。", 10.5)
    document.save(path)
    return path
