"""Write a form of any declared kind as .xlsx or .docx, blank (the templates/ forms) or filled
(samples, tests, the benchmark). Layouts are the ones clerks make: the annex's label/value pairs,
one label per row, or a header row above a value row."""
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import docx
import openpyxl
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

from ..sheets import a4_page
from .kinds import FieldSpec, FormKind

if TYPE_CHECKING:
    from docx.text.run import Run
    from openpyxl.worksheet.worksheet import Worksheet

FONT = "宋体"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LAYOUTS = ("annex", "column", "header")
COLUMN_WIDTH = 18
ROW, LONG_ROW = 28, 60                  # row heights in points: a field, a long text (投诉内容, 处理结果…)
DOCX_ROW, DOCX_LONG_ROW = 0.75, 1.4     # the same in the Word forms, in cm (at least: text makes them grow)
NOTE_LINE = 13                          # points per line of a 9-point note
NOTE_CHARS_PER_COLUMN = 10              # Chinese characters of a 9-point note per column of COLUMN_WIDTH
Values = Mapping[str, object]           # field key -> value, as tests and samples give them
Slot = tuple[object, int, bool]         # (text, span, is_label): one cell of a laid-out row


def shown(spec: FieldSpec, value: object) -> object:
    """A value as a clerk would type it; choices become tick boxes."""
    options = getattr(spec.type, "options", None)
    if options is not None:
        chosen = set(value) if isinstance(value, (tuple, list, set)) else {value}
        return "  ".join(f"{names[0]}{'☑' if canonical in chosen else '□'}" for canonical, names in options)
    if isinstance(value, (tuple, list)):
        return "、".join(map(str, value))
    return value


def _rows(kind: FormKind, values: Values, layout: str) -> list[list[Slot]]:
    """[[(text, span, is_label), ...], ...] for the table."""
    cells = [(spec, shown(spec, values.get(spec.key))) for spec in kind.fields]
    if layout == "column":
        return [[(spec.label, 1, True), (value, 3, False)] for spec, value in cells]
    if layout == "header":
        return [[(spec.label, 1, True) for spec, _ in cells], [(value, 1, False) for _, value in cells]]
    rows: list[list[Slot]] = []
    pending: list[Slot] = []
    for spec, value in cells:
        if spec.long:
            rows.append([(spec.label, 1, True), (value, 3, False)])
            continue
        pending += [(spec.label, 1, True), (value, 1, False)]
        if len(pending) == 4:
            rows.append(pending)
            pending = []
    if pending:
        rows.append(pending + [(None, 4 - len(pending), False)])
    return rows


def build_xlsx(kind: FormKind, values: Values, path: Path, layout: str = "annex", defined_names: bool = False) -> Path:
    book = openpyxl.Workbook()
    fill_sheet(book.active, kind, values, layout, defined_names)
    book.save(path)
    return path


def fill_sheet(ws: "Worksheet", kind: FormKind, values: Values, layout: str = "annex",
               defined_names: bool = False) -> None:
    """Lay the form out on a worksheet (of a new workbook, or of the Excel button workbook)."""
    book = ws.parent
    ws.title = kind.name
    rows = _rows(kind, values, layout)
    width = max(sum(span for _, span, _ in row) for row in rows)
    long_labels = {spec.label for spec in kind.fields if spec.long}
    ws.cell(1, 1, kind.title).font = Font(name=FONT, size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for r, row in enumerate(rows, start=2):
        c = 1
        for value, span, is_label in row:
            cell = ws.cell(r, c, value)
            cell.font = Font(name=FONT, size=11, bold=is_label)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            for col in range(c, c + span):
                ws.cell(r, col).border = BOX
            if span > 1:
                ws.merge_cells(start_row=r, start_column=c, end_row=r, end_column=c + span - 1)
            if defined_names and is_label:
                label = value
                target = f"'{ws.title}'!${get_column_letter(c + span)}${r}"
                book.defined_names[label] = DefinedName(label, attr_text=target)
            c += span
        ws.row_dimensions[r].height = LONG_ROW if _writes_long(row, long_labels) else ROW
    last = len(rows) + 1
    for last, note in enumerate(kind.notes, start=len(rows) + 3):
        cell = ws.cell(last, 1, note)
        cell.font = Font(name=FONT, size=9)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=last, start_column=1, end_row=last, end_column=width)
        ws.row_dimensions[last].height = NOTE_LINE * -(-len(note) // (width * NOTE_CHARS_PER_COLUMN))
    for col in range(1, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = COLUMN_WIDTH
    _one_page(ws, f"A1:{get_column_letter(width)}{last}")


def _writes_long(row: list[Slot], long_labels: set[str]) -> bool:
    """Whether a row holds a long text (投诉内容, 处理结果…): it gets room to write by hand when printed."""
    return any(is_label and value in long_labels for value, _, is_label in row)


def _one_page(ws: "Worksheet", area: str) -> None:
    """A form prints on one A4 portrait page: its columns and rows scaled to fit, centred."""
    ws.print_area = area
    a4_page(ws, "portrait", 1, (0.6, 0.8))


def _east_asian(run: "Run", size: float | None = None, bold: bool = False) -> None:
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    run.bold = bold
    if size:
        run.font.size = Pt(size)


def build_docx(kind: FormKind, values: Values, path: Path, layout: str = "annex") -> Path:
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)           # A4 (python-docx starts on Letter)
    section.top_margin = section.bottom_margin = section.left_margin = section.right_margin = Cm(2)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _east_asian(title.add_run(kind.title), 16, True)
    rows = _rows(kind, values, layout)
    width = max(sum(span for _, span, _ in row) for row in rows)
    long_labels = {spec.label for spec in kind.fields if spec.long}
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        table.rows[r].height = Cm(DOCX_LONG_ROW if _writes_long(row, long_labels) else DOCX_ROW)
        table.rows[r].height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        c = 0
        for value, span, is_label in row:
            cell = table.cell(r, c)
            if span > 1:
                cell = cell.merge(table.cell(r, c + span - 1))
            if value is not None:
                text = value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
                _east_asian(cell.paragraphs[0].add_run(text), 11, is_label)
            c += span
    for note in kind.notes:
        _east_asian(document.add_paragraph().add_run(note), 9)
    document.save(str(path))
    return path


def build(kind: FormKind, values: Values, path: str | Path, layout: str = "annex") -> Path:
    path = Path(path)
    if path.suffix.lower() == ".docx":
        return build_docx(kind, values, path, layout)
    return build_xlsx(kind, values, path, layout)
