"""投诉信息管理台帐 (附件5): ledger/投诉管理台帐-YYYY.xlsx, one sheet per month of 受理时间, one row per
case; the annex columns first, then the toolkit's. Written from the journal once per batch.

A month prints as the annex: the title 「投诉信息管理台帐 YYYY年MM月」, the header repeated on every
page and the annex's nine columns only, sized to fill a landscape A4 page at about 87% (≥ 80% is
readable). The toolkit's columns stay on the same rows, right of the print area: one row per case
keeps filtering and sorting whole (filter 是否超时 = 是 and the printout shows those cases), where a
sheet of their own would split every case in two.

Incremental (SPEC §16): a batch renders only the months it changed and carries every other month's
sheet part (xl/worksheets/sheetN.xml) over from the year's workbook byte for byte. This holds because a
sheet part refers to nothing but the style table (openpyxl writes text as inline strings, and the
month's print titles, print area and filter names in workbook.xml are written again from the row
count), and the style table is registered in one fixed order (FIXED_STYLES), so it is the same in
every write; a workbook whose style table differs (saved by another program) is rendered whole.
The months changed are found from the journal's events since the last write (the cases accepted and
the cases rules 8/9 reclassified with them, in their month now and in the month they were listed in),
plus the months whose earliest open deadline has passed since (是否超时 and 考核扣分 move with time).
What the last write knew is kept in .tousu/ledger-YYYY.json; without it, or when the workbook is not
the one last written, or after a rebuild of the journal, the whole year is rendered."""
import hashlib
import io
import json
import posixpath
import re
import struct
import zipfile
from copy import copy
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from .deadlines import DEFAULT
from .files import write_atomically
from .period import month_bounds
from .policy import Policy
from .scoring import case_points, late_stages, score_month
from .sheets import (
    FORMULA_PREFIXES,
    LINE_POINTS,
    STYLES,
    _column_widths,
    _lines,
    save_atomically,
    write_table,
)

ANNEX_COLUMNS = ["序号", "投诉编号", "投诉时间", "投诉内容", "投诉地址/投诉人", "联系电话", "处理意见与结果",
                 "责任部门", "处理时间"]
CASE_COLUMNS = ["受理渠道", "投诉性质", "投诉类别", "重大依据"]   # then a 时限 column per timed stage
STATE_COLUMNS = ["状态", "是否超时", "回访评价", "考核扣分"]


def timed_stages(policy: Policy) -> list[str]:
    """The stages the policy's table gives a limit (a window aside): one 「…时限」 column each, in the
    policy's order (seed 000: 调查反馈, 处理反馈, 回访)."""
    limited = {key for tiers in policy.deadlines.classes.values() for limits in tiers.values()
               for key, limit in limits.items() if limit is not None}
    return [stage.key for stage in policy.stages if stage.key in limited and not stage.window]


def ledger_columns(policy: Policy) -> list[str]:
    return [*ANNEX_COLUMNS, *CASE_COLUMNS, *(f"{policy.stage_name(key)}时限" for key in timed_stages(policy)),
            *STATE_COLUMNS]


COLUMNS = ledger_columns(DEFAULT)        # the default policy's
# The printed annex columns: 905 pt of widths on the 784 pt of a landscape A4 page -> printed at ~87%.
WIDTHS = {"序号": 6, "投诉编号": 14, "投诉时间": 17, "投诉内容": 32, "投诉地址/投诉人": 20, "联系电话": 14,
          "处理意见与结果": 32, "责任部门": 14, "处理时间": 17}
EVENT_KINDS = ("accepted", "rebuilt")       # what changes a case's row; a rebuilt journal restarts its events
EVENT_PAGES = (256, 8192, -1)               # how many events to look back for the last write's, in turn
FIXED_STYLES = (*STYLES, "quoted")          # every cell style a ledger sheet uses, registered in this order
CR = {"\r": "&#13;"}                        # a CR kept in XML text (a parser would make it a LF)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
RID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def ledger_path(ws, year: int) -> Path:
    return ws.ledger / f"投诉管理台帐-{year:04d}.xlsx"


def _state_path(ws, year: int) -> Path:
    return ws.state / f"ledger-{year:04d}.json"


def _moment(value):
    return datetime.fromisoformat(value) if value else None


def open_due(state: dict, now: datetime, stages: tuple[str, ...]) -> str | None:
    """The earliest deadline of a unit stage (`stages`) still open and not yet passed at `now`: when it
    passes, the case's 是否超时 / 考核扣分 change."""
    due = [state["deadlines"][s] for s in stages
           if state["deadlines"].get(s) and not state["met"].get(s) and _moment(state["deadlines"][s]) >= now]
    return min(due, default=None)


def month_rows(journal, policy, month: str, now: datetime) -> tuple[list, str | None]:
    """The month's rows, and the earliest open deadline still to pass among its cases."""
    received = journal.cases_received(*month_bounds(month))
    points = case_points(score_month(journal, policy, month, now, received))
    rows, due, timed = [], None, timed_stages(policy)
    for index, case in enumerate(received, start=1):
        facts, state, number = case["facts"], case["state"], case["number"]
        feedback = journal.latest_facts(number, "feedback")
        who = " / ".join(v for v in (facts.get("address"), facts.get("customer_name")) if v)
        severity = "疑似重大" if state["suspected_major"] else state["severity"]
        deadlines = state["deadlines"]
        rows.append([index, number, _moment(facts["received_at"]), facts.get("content"), who, facts.get("phone"),
                     feedback.get("result"), state.get("unit"), _moment(state["met"].get("handling")),
                     facts.get("channel"), severity, state.get("responsibility"), "；".join(state["major_reasons"]),
                     *(_moment(deadlines.get(stage)) for stage in timed), state["status"],
                     "是" if late_stages(state, now, policy.unit_stages) else "否", state.get("evaluation"),
                     points.get(number, 0)])
        due = min(filter(None, (due, open_due(state, now, policy.unit_stages))), default=None)
    return rows, due


@dataclass
class Written:
    """What the last write of a year's workbook knew (.tousu/ledger-YYYY.json)."""
    sha256: str
    event: dict | None                  # the journal's newest event then (EVENT_KINDS)
    written_at: str
    months: dict                        # "YYYY-MM" -> {"numbers": " N1 N2 … ", "due": ISO or None}
    columns: list | None = None         # the header then (a policy with other stages changes it)

    @classmethod
    def read(cls, ws, year: int):
        try:
            return cls(**json.loads(_state_path(ws, year).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def write(self, ws, year: int) -> None:
        write_atomically(_state_path(ws, year), json.dumps(self.__dict__, ensure_ascii=False).encode("utf-8"))

    def overdue(self, now: datetime) -> set[str]:
        return {m for m, info in self.months.items() if info["due"] and now > _moment(info["due"])}


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _events_since(journal, mark: dict | None) -> list | None:
    """The events after the one the last write saw, newest first; None when it is gone (a new journal)."""
    for limit in EVENT_PAGES:
        events = journal.events(EVENT_KINDS, limit)
        if mark in events:
            return events[:events.index(mark)]
        if limit < 0 or len(events) < limit:
            return events if mark is None else None
    return None


def changed_months(ws, year: int, written: Written | None, now: datetime, journal=None) -> set[str] | None:
    """The months of `year` whose rows may differ from the workbook's; None: render the whole year."""
    journal = journal or ws.journal
    if written is None or written.written_at > now.isoformat() or _digest(ledger_path(ws, year)) != written.sha256 \
            or written.columns != ledger_columns(ws.policy):
        return None
    events = _events_since(journal, written.event)
    if events is None or any(e["kind"] == "rebuilt" for e in events):
        return None
    touched = {n for e in events for n in (e["number"], *e["detail"].get("touched", ())) if n}
    months = written.overdue(now)
    for number in touched:
        case = journal.case(number)
        if case and case["received_at"].startswith(f"{year:04d}-"):
            months.add(case["received_at"][:7])
        months |= {m for m, info in written.months.items() if f" {number} " in info["numbers"]}
    return months


def behind_years(ws, now: datetime, journal=None) -> set[int]:
    """Years whose workbook misses changes the journal holds (a crash between a commit and the mark of
    its year as pending, a workbook edited or replaced by hand): checked at start and by `status`."""
    journal = journal or ws.journal
    behind = set()
    for year in journal.years():
        if not ledger_path(ws, year).exists():
            continue                                    # missing ledgers are stale anyway (batch.stale_years)
        months = changed_months(ws, year, Written.read(ws, year), now, journal)
        if months is None or months:
            behind.add(year)
    return behind


def due_years(ws, now: datetime) -> set[int]:
    """Years whose workbook shows a deadline as open that has passed since it was written."""
    years = {int(p.stem[len("ledger-"):]) for p in ws.state.glob("ledger-[0-9][0-9][0-9][0-9].json")}
    return {y for y in years if (w := Written.read(ws, y)) is not None and w.overdue(now)}


@dataclass
class Month:
    """One month's sheet: its rows when rendered now, else carried over with its case numbers."""
    month: int
    rows: list | None
    due: str | None
    carried: str = ""

    @property
    def numbers(self) -> str:
        return f" {' '.join(row[1] for row in self.rows)} " if self.rows is not None else self.carried

    @property
    def count(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.carried.split())

    @property
    def title(self) -> str:
        return f"{self.month}月"


def _fixed_styles(book) -> dict[str, int]:
    """Register every ledger cell style in FIXED_STYLES order, whatever the rows hold; {name: its index}."""
    scratch = book.create_sheet("scratch")
    found = {}
    for col, name in enumerate(FIXED_STYLES, start=1):
        cell = scratch.cell(1, col)
        for attribute, value in STYLES.get(name, STYLES["body"]).items():
            setattr(cell, attribute, value)
        cell.quotePrefix = name == "quoted"
        found[name] = book._cell_styles.add(copy(cell._style))
    book.remove(scratch)
    return found


def _cell_xml(ref: str, value, width: float, styles: dict) -> tuple[str, int]:
    """One data cell as openpyxl writes it after sheets.set_value, and the lines its text takes."""
    if value is None or value == "":
        return f'<c r="{ref}" s="{styles["body"]}"/>', 1
    if isinstance(value, datetime):
        return f'<c r="{ref}" s="{styles["datetime"]}" t="n"><v>{safe_string(to_excel(value))}</v></c>', 1
    if isinstance(value, (int, float)):
        return f'<c r="{ref}" s="{styles["body"]}" t="n"><v>{safe_string(value)}</v></c>', 1
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    style = styles["quoted" if text.startswith(FORMULA_PREFIXES) or value.startswith(FORMULA_PREFIXES) else "body"]
    space = ' xml:space="preserve"' if text != text.strip() else ""
    lines = _lines(value, width) if len(value) * 2 > width - 1 else 1
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text, CR)}</t></is></c>', lines


class RowCache:
    """Each case's row as sheet XML without its row number, by case number, kept between writes of a
    long-running process (the watcher): a month re-rendered for one new case renders that case's row
    and re-numbers the others (at 50,000 cases, ~0.05 s instead of ~0.4 s for a month). A row is
    reused only when its values, its column widths and the style indices are the same."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[tuple, str, str]] = {}      # number -> (key, cells after "序号", height)

    def row(self, values: list, layout: tuple, styles: dict, letters: list, keep: bool) -> tuple[str, str]:
        """(the cells after 序号 with NUL for the row number, the row's height attributes); kept for the
        next write when `keep` (a whole year rendered at once keeps nothing: it would only cost memory).
        `layout` is the month's column widths and style indices, which a kept row must share."""
        widths = layout[0]
        key = (tuple(values[1:]), layout) if keep else None
        cached = self.rows.get(values[1]) if keep else None
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        cells = [_cell_xml(f"{letter}\0", value, width, styles)
                 for letter, value, width in zip(letters[1:], values[1:], widths[1:], strict=False)]
        lines = max(n for _, n in cells)
        height = f' ht="{lines * LINE_POINTS + 3:g}" customHeight="1"' if lines > 1 else ""
        xml = "".join(xml for xml, _ in cells)
        if keep:
            self.rows[values[1]] = (key, xml, height)
        return xml, height


ROWS = RowCache()


def _rows_xml(rows: list, widths: list, styles: dict, first: int, keep: bool) -> str:
    """The data rows of a month as sheet XML (sheets.write_table's cells, boxed and wrapped, each row
    as tall as its longest text), written here rather than through openpyxl's cell objects: a month of
    4,000 cases in 0.2 s instead of 2.5 s, and from ROWS for the cases whose row did not change."""
    letters = [get_column_letter(col) for col in range(1, len(rows[0]) + 1)] if rows else []
    layout = (tuple(widths), tuple(sorted(styles.items())))
    out = []
    for r, values in enumerate(rows, start=first):
        cells, height = ROWS.row(values, layout, styles, letters, keep)
        index, _ = _cell_xml(f"A{r}", values[0], widths[0], styles)
        out.append(f'<row r="{r}"{height}>{index}{cells.replace(chr(0), str(r))}</row>')
    return "".join(out)


def _render(year: int, months: list, keep: bool, columns: list[str]) -> tuple[bytes, dict]:
    """The workbook as openpyxl writes it, every month with its title, header, widths and print settings
    but no data rows; and {sheet name: the data rows' XML} for the months rendered now (the carried ones
    are replaced by their old parts)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    styles = _fixed_styles(book)
    bodies = {}
    for month in months:
        sheet = book.create_sheet(month.title)
        last = month.count + 2
        if month.rows is not None:
            write_table(sheet, columns, [], WIDTHS, title=f"投诉信息管理台帐 {year}年{month.month:02d}月",
                        printed=len(ANNEX_COLUMNS))
            sheet.delete_rows(3)                # the empty cell freezing the panes made below the header
            bodies[month.title] = _rows_xml(month.rows, _column_widths(sheet, columns, month.rows, WIDTHS), styles, 3,
                                            keep)
        sheet.print_title_rows = "1:2"
        sheet.print_area = f"A1:{get_column_letter(len(ANNEX_COLUMNS))}{last}"
        sheet.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{max(last, 3)}"
    if not months:
        write_table(book.create_sheet("说明"), columns, [])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), bodies


def _with_rows(part: bytes, rows: str, count: int, width: int) -> bytes:
    """A month's sheet part as openpyxl wrote it (title and header) with its data rows put in."""
    last = get_column_letter(width)
    part = re.sub(rb'<dimension ref="[A-Z0-9:]+"/>', f'<dimension ref="A1:{last}{count + 2}"/>'.encode(), part,
                  count=1)
    head, tail = part.split(b"</sheetData>", 1)
    assert b'<row r="3"' not in head
    return head + rows.encode("utf-8") + b"</sheetData>" + tail


def sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: its part's name in the package}."""
    book = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{RELS}Relationship")}
    return {s.get("name"): posixpath.normpath(posixpath.join("xl", targets[s.get(RID)])).lstrip("/")
            for s in book.iter(f"{MAIN}sheet")}


def _carried_parts(old: Path | None, fresh: zipfile.ZipFile, months: list) -> dict[str, tuple] | None:
    """{fresh part name: (its ZipInfo in the old package, its compressed bytes)} for the carried months;
    None when they cannot be carried (no old package, or one whose style table or string table differs)."""
    try:
        with zipfile.ZipFile(old) as package:
            if package.read("xl/styles.xml") != fresh.read("xl/styles.xml") or \
                    "xl/sharedStrings.xml" in package.namelist():
                return None
            parts, mine = sheet_parts(package), sheet_parts(fresh)
            return {mine[m.title]: _raw(package, package.getinfo(parts[m.title])) for m in months if m.rows is None}
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, TypeError):
        return None


def _raw(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple:
    """A part's compressed bytes as stored (copied without inflating and deflating them again)."""
    package.fp.seek(info.header_offset)
    header = package.fp.read(zipfile.sizeFileHeader)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    package.fp.seek(info.header_offset + zipfile.sizeFileHeader + name_length + extra_length)
    return info, package.fp.read(info.compress_size)


def _write_raw(package: zipfile.ZipFile, name: str, info: zipfile.ZipInfo, data: bytes) -> None:
    """Append a part given as compressed bytes (_raw) under `name`."""
    copied = copy(info)
    copied.filename, copied.orig_filename = name, name
    copied.flag_bits &= ~0x08                   # sizes in the local header, no data descriptor after it
    copied.extra = b""
    copied.header_offset = package.fp.tell()
    package.fp.write(copied.FileHeader())
    package.fp.write(data)
    package.filelist.append(copied)
    package.NameToInfo[name] = copied
    package.start_dir = package.fp.tell()
    package._didModify = True


class _Package:
    """A finished package given to save_atomically (which calls save(file), as for a workbook)."""

    def __init__(self, data: bytes):
        self.data = data

    def save(self, target) -> None:
        target.write(self.data)


def _assemble(year: int, months: list, old: Path | None, columns: list[str]) -> bytes | None:
    fresh_bytes, bodies = _render(year, months, old is not None, columns)
    fresh = zipfile.ZipFile(io.BytesIO(fresh_bytes))
    carried = _carried_parts(old, fresh, months) if any(m.rows is None for m in months) else {}
    if carried is None:
        return None
    rendered = {part: (bodies[name], m.count) for name, part in sheet_parts(fresh).items()
                for m in months if m.title == name and m.rows is not None}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in fresh.infolist():
            if info.filename in carried:
                _write_raw(package, info.filename, *carried[info.filename])
            elif info.filename in rendered:
                package.writestr(info, _with_rows(fresh.read(info.filename), *rendered[info.filename], len(columns)))
            else:
                package.writestr(info, fresh.read(info.filename))
    return out.getvalue()


def write_ledger(ws, year: int, now: datetime) -> Path:
    """Bring the year's workbook up to date with the journal, rendering only the months that changed."""
    written = Written.read(ws, year)
    changed = changed_months(ws, year, written, now)
    target = ledger_path(ws, year)
    data = None
    while data is None:
        months = []
        for mon in range(1, 13):
            month = f"{year:04d}-{mon:02d}"
            if changed is None or month in changed:
                rows, due = month_rows(ws.journal, ws.policy, month, now)
                months.append(Month(mon, rows, due))
            elif month in written.months:
                months.append(Month(mon, None, written.months[month]["due"], written.months[month]["numbers"]))
        months = [m for m in months if m.count]
        if changed is None:
            ROWS.rows.clear()
        data = _assemble(year, months, None if changed is None else target, ledger_columns(ws.policy))
        changed = None                                  # the old parts could not be carried: render all
    save_atomically(_Package(data), target)
    latest = ws.journal.events(EVENT_KINDS, 1)
    Written(hashlib.sha256(data).hexdigest(), latest[0] if latest else None, now.isoformat(),
            {f"{year:04d}-{m.month:02d}": {"numbers": m.numbers, "due": m.due} for m in months},
            ledger_columns(ws.policy)).write(ws, year)
    return target


def case_years(journal, numbers) -> set:
    return {int(journal.case(n)["received_at"][:4]) for n in numbers if n and journal.case(n)}


def all_years(journal) -> list:
    return journal.years()
