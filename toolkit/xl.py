"""Excel entry points, called by xlwings' RunPython macros and by the add-in's "Run main" button
(which calls main() in templates/tousu_excel.py). Thin adapters over the library: a clerk's form is
submitted the way every remote client submits — saved, dropped into the shared inbox/, answered by
the watcher's receipt — so an Excel PC never opens the journal. xlwings is imported only here."""
import json
import os
import shutil
import time
from datetime import datetime
from pathlib import Path

from . import commands
from .batch import refresh_ledgers
from .clock import Clock
from .deadlines import STAGE_NAMES, DeadlineRules
from .forms.kinds import KINDS
from .forms.reader import kind_by_title
from .forms.values import parse_datetime
from .inbox import find_receipt
from .ledger import all_years
from .paths import workspace_policy
from .period import month_of
from .policy import load_policy
from .receipt import STAGE_TEXT as DEADLINE_TEXT
from .workspace import Workspace, default_root

try:                                            # the "excel" extra; Linux without it still imports this module
    import xlwings as xw
except ImportError:                             # pragma: no cover - depends on the machine
    xw = None

RECEIPT_WAIT = 30.0
HEADING_ROWS = 6


def _book(book):
    return book if book is not None else xw.Book.caller()


def _workspace_root(book) -> Path:
    """TOUSU_WORKSPACE, else a workbook name TOUSU_WORKSPACE pointing at a cell with the path."""
    if os.environ.get("TOUSU_WORKSPACE"):
        return Path(os.environ["TOUSU_WORKSPACE"])
    try:
        configured = book.names["TOUSU_WORKSPACE"].refers_to_range.value
    except (KeyError, AttributeError, TypeError):
        configured = None
    return Path(configured) if configured else default_root()


def _output_sheet(book, name: str):
    """A sheet of the workbook for the toolkit's answer, emptied first."""
    names = [sheet.name for sheet in book.sheets]
    sheet = book.sheets[name] if name in names else book.sheets.add(name, after=book.sheets[len(names) - 1])
    sheet.clear_contents()
    return sheet


def as_text(value):
    """A string as Excel must store it: assigned through Range.Value, a string is taken as if typed
    (`=…` a formula, `001` or a phone number a number, `1/2` a date); a leading apostrophe makes
    Excel keep the rest as literal text, verbatim. Other values pass unchanged."""
    return f"'{value}" if isinstance(value, str) else value


def _show(book, name: str, rows: list) -> list:
    """Write `rows` into sheet `name` from A1, every string as text (never a formula)."""
    sheet = _output_sheet(book, name)
    if rows:
        sheet.range("A1").value = [[as_text(value) for value in row] for row in rows]
    return rows


def active_form_kind(book):
    """The form kind of the active sheet, recognised by its title like any file."""
    values = book.sheets.active.used_range.value or []
    values = values if isinstance(values, list) else [[values]]
    rows = values if values and isinstance(values[0], list) else [values]
    texts = [str(v) for row in rows[:HEADING_ROWS] for v in row if v not in (None, "")]
    return kind_by_title(texts, KINDS)


def submit(book=None, wait: float = RECEIPT_WAIT, clock: Clock = Clock()):
    """Save the active form, drop a copy into the shared inbox/, wait for the watcher's receipt and
    write the number and deadlines back: the number into the form, the receipt into sheet 回执."""
    book = _book(book)
    ws_root = _workspace_root(book)
    book.save()
    source = Path(book.fullname)
    name = f"{source.stem}-{clock.now():%Y%m%d%H%M%S}{source.suffix}"
    inbox = Workspace.open(ws_root).inbox
    shutil.copyfile(source, inbox / f".{name}.part")
    os.replace(inbox / f".{name}.part", inbox / name)          # appears whole: never half-read
    deadline = time.monotonic() + wait
    while (receipt_path := find_receipt(ws_root / "receipts", name)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if receipt_path is None:
        return _show(book, "回执", [["已放入收件箱", name],
                                    ["说明", "监视程序尚未处理，请稍后查看 receipts/ 中的回执。"]])
    receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
    if receipt["status"] == "accepted" and receipt.get("number_cell") and "!" not in receipt["number_cell"] \
            and receipt["number_cell"][:1].isalpha():
        book.sheets.active.range(receipt["number_cell"]).value = as_text(receipt["number"])
    rows = [["结果", {"accepted": "已受理", "refused": "已拒收", "duplicate": "重复提交"}[receipt["status"]]],
            ["投诉编号", receipt["number"]], ["投诉性质", receipt["severity"]],
            ["案件状态", receipt.get("case_status")]]
    rows += [[DEADLINE_TEXT[stage], datetime.fromisoformat(due)] for stage, due in receipt["deadlines"].items() if due]
    rows += [[f"{'拒收原因' if p['level'] == 'error' else '填写缺陷'}：{p['field']}", f"{p['cell']} {p['message']}"]
             for p in receipt["problems"]]
    return _show(book, "回执", rows)


def refresh_ledger(book=None, clock: Clock = Clock()):
    """Rewrite every year's 投诉管理台帐 (run on the machine that hosts the workspace)."""
    book = _book(book)
    ws = Workspace.open(_workspace_root(book))
    messages = refresh_ledgers(ws, all_years(ws.journal), clock.now())
    files = sorted(p.name for p in ws.ledger.glob("投诉管理台帐-*.xlsx"))
    return _show(book, "台帐", [["已更新", name] for name in files] + [["提示", m] for m in messages])


def notices_today(book=None, clock: Clock = Clock()):
    """Render today's 督办通知单 (never twice) and list them in sheet 督办: `tousu overdue --notices`."""
    book = _book(book)
    result = commands.overdue(Workspace.open(_workspace_root(book)), None, True, clock)
    rows = [["投诉编号", "超时环节", "时限", "责任部门", "督办通知单"]]
    rows += [[i.number, STAGE_NAMES[i.stage], datetime.fromisoformat(i.due), i.unit, i.notice] for i in result.items]
    return _show(book, "督办", rows)


def score_this_month(book=None, clock: Clock = Clock()):
    """This month's §10 points per unit, every line with its case and reason, in sheet 考核: `tousu score`."""
    book = _book(book)
    result = commands.score(Workspace.open(_workspace_root(book)), month_of(clock.now()), clock)
    rows = [["责任部门", "投诉编号", "扣分", "依据"]]
    for score in result.scores:
        rows.append([score.unit, "合计", score.points, f"重大{score.major} 责任{score.responsible} "
                                                      f"非责任{score.non_responsible} 超时{score.late}"])
        rows += [[score.unit, line.number, line.points, line.reason] for line in score.lines]
    return _show(book, "考核", rows)


ACTIONS = {"台帐": refresh_ledger, "督办": notices_today, "考核": score_this_month}


def main(book=None, clock: Clock = Clock()):
    """The add-in's "Run main": a form sheet is submitted; sheets 台帐/督办/考核 run their action."""
    book = _book(book)
    if active_form_kind(book) is not None:
        return submit(book, clock=clock)
    return ACTIONS.get(book.sheets.active.name, score_this_month)(book, clock=clock)


def _udf(function):
    return xw.func(function) if xw is not None else function


@_udf
def TOUSU_DUE(channel, severity, received, stage="investigation"):  # noqa: N802 - Excel's naming
    """=TOUSU_DUE(渠道, 性质, 受理时间, "investigation"|"handling"): the 附件3 deadline."""
    policy = load_policy(workspace_policy(default_root()))
    moment = parse_datetime(received, Clock().now())[0]
    channel_class, _ = policy.channel_class(str(channel))
    return getattr(DeadlineRules(policy).intake(channel_class, str(severity), moment), stage)
