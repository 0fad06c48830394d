"""Write a form of any declared kind as .xlsx or .docx, blank (the templates/ forms) or filled
(samples, tests, the benchmark). Layouts are the ones clerks make: the annex's label/value pairs,
one label per row, or a header row above a value row."""
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

FONT = "宋体"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LAYOUTS = ("annex", "column", "header")


def shown(spec, value) -> object:
    """A value as a clerk would type it; choices become tick boxes."""
    options = getattr(spec.type, "options", None)
    if options is not None:
        chosen = set(value) if isinstance(value, (tuple, list, set)) else {value}
        return "  ".join(f"{names[0]}{'☑' if canonical in chosen else '□'}" for canonical, names in options)
    if isinstance(value, (tuple, list)):
        return "、".join(map(str, value))
    return value


def _rows(kind, values: dict, layout: str) -> list:
    """[[(text, span, is_label), ...], ...] for the table."""
    cells = [(spec, shown(spec, values.get(spec.key))) for spec in kind.fields]
    if layout == "column":
        return [[(spec.label, 1, True), (value, 3, False)] for spec, value in cells]
    if layout == "header":
        return [[(spec.label, 1, True) for spec, _ in cells], [(value, 1, False) for _, value in cells]]
    rows, pending = [], []
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


def build_xlsx(kind, values: dict, path: Path, layout: str = "annex", defined_names: bool = False) -> Path:
    book = openpyxl.Workbook()
    fill_sheet(book.active, kind, values, layout, defined_names)
    book.save(path)
    return path


def fill_sheet(ws, kind, values: dict, layout: str = "annex", defined_names: bool = False) -> None:
    """Lay the form out on a worksheet (of a new workbook, or of the Excel button workbook)."""
    book = ws.parent
    ws.title = kind.name
    rows = _rows(kind, values, layout)
    width = max(sum(span for _, span, _ in row) for row in rows)
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
        if any(span > 1 and not is_label and value is not None and len(str(value)) > 30 for value, span, is_label in row):
            ws.row_dimensions[r].height = 60
    for offset, note in enumerate(kind.notes, start=len(rows) + 3):
        ws.cell(offset, 1, note).font = Font(name=FONT, size=9)
    for col in range(1, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = 18


def _east_asian(run, size: float | None = None, bold: bool = False) -> None:
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    run.bold = bold
    if size:
        run.font.size = Pt(size)


def build_docx(kind, values: dict, path: Path, layout: str = "annex") -> Path:
    document = docx.Document()
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _east_asian(title.add_run(kind.title), 16, True)
    rows = _rows(kind, values, layout)
    width = max(sum(span for _, span, _ in row) for row in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
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
    document.save(path)
    return path


def build(kind, values: dict, path: Path, layout: str = "annex") -> Path:
    path = Path(path)
    if path.suffix.lower() == ".docx":
        return build_docx(kind, values, path, layout)
    return build_xlsx(kind, values, path, layout)
