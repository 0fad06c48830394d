"""What each `tousu` command does, as library calls that return one result object each (pipx's
OperationResult pattern): the CLI parses options, calls one function here and renders the result once,
as Chinese text or as JSON lines (toolkit/results.py). Nothing here prints or exits."""
import shutil
from datetime import datetime
from pathlib import Path

from .batch import process_batch, rebuild_all
from .clock import Clock
from .deadlines import DeadlineRules
from .errors import BadArgument
from .forms.values import ValueIssue, parse_datetime
from .notices import find_overdue, issue_notices, listing_warnings
from .paths import SAMPLES
from .policy import REQUIRED_DATE, Policy
from .process import check as check_file
from .report import write_report, write_score_sheet
from .results import (
    DemoResult,
    DueResult,
    InitResult,
    OverdueResult,
    RebuildResult,
    ReceiptsResult,
    ReportResult,
    ScoreResult,
    StatusResult,
    VerifyResult,
)
from .scoring import score_month
from .scoring import warnings as score_warnings
from .status import workspace_status
from .verify import verify as verify_workspace
from .watcher import Watcher, configure_logging
from .workspace import Workspace


def moment(text: str | None, clock: Clock, what: str = "时间") -> datetime:
    """A date or time typed on the command line (now when none); a text that is neither is a BadArgument."""
    if not text:
        return clock.now()
    try:
        return parse_datetime(text, clock.now())[0]
    except ValueIssue as issue:
        raise BadArgument(f"{what}「{text}」无法识别：{issue}") from None


def init(directory: Path) -> InitResult:
    ws = Workspace.open(directory)
    with ws.locked():                           # creates the journal's schema and the archive counters
        pass
    return InitResult(ws.root, ws.journal_path)


def process(ws: Workspace, files: list[Path], clock: Clock) -> ReceiptsResult:
    receipts, messages = process_batch(ws, files, clock)
    return ReceiptsResult(receipts, notes=messages)


def check(policy: Policy, files: list[Path], clock: Clock) -> ReceiptsResult:
    return ReceiptsResult([check_file(path, policy, clock) for path in files])


def due(policy: Policy, channel: str, severity: str, received: str, required_date: str | None,
        clock: Clock) -> DueResult:
    start = moment(received, clock, "受理时间")
    required = moment(required_date, clock, "要求办结日期").date() if required_date else None
    channel_class, _ = policy.channel_class(channel)
    deadlines = DeadlineRules(policy).intake(channel_class, severity, start, required)
    fallback = required is None and policy.limit(channel_class, severity, "investigation") == REQUIRED_DATE
    return DueResult(channel_class, severity, start, deadlines, policy.fallback_class if fallback else None)


def rebuild(ws: Workspace, clock: Clock) -> RebuildResult:
    result, messages = rebuild_all(ws, clock)
    return RebuildResult(result, sorted(p.name for p in ws.ledger.glob("投诉管理台帐-*.xlsx")), messages)


def verify(ws: Workspace, clock: Clock) -> VerifyResult:
    return VerifyResult(verify_workspace(ws, clock.now()))


def score(ws: Workspace, month: str, clock: Clock) -> ScoreResult:
    scores = score_month(ws.journal, ws.policy, month, clock.now())
    path = write_score_sheet(ws, month, scores)
    return ScoreResult(month, scores, ws.relative(path), score_warnings(scores))


def overdue(ws: Workspace, as_of: str | None, notices: bool, clock: Clock) -> OverdueResult:
    when = moment(as_of, clock)
    items = find_overdue(ws.journal, when)
    if notices:
        with ws.locked():
            issue_notices(ws, items, when, clock.now())
    return OverdueResult(when, items, listing_warnings(items))


def report(ws: Workspace, month: str, clock: Clock) -> ReportResult:
    path, figures = write_report(ws, month, clock.now())
    return ReportResult(month, ws.relative(path), figures)


def status(ws: Workspace, clock: Clock) -> StatusResult:
    return StatusResult(workspace_status(ws, clock.now()))


def demo(ws: Workspace, clock: Clock) -> DemoResult:
    """Copy the shipped samples into the inbox (in name order: follow-ups after their intakes) and let the
    watcher take them once."""
    configure_logging(ws)
    for sample in sorted(SAMPLES.glob("*")):
        if sample.suffix.lower() in (".xlsx", ".xlsm", ".docx", ".xls", ".doc"):
            shutil.copyfile(sample, ws.inbox / sample.name)
    code = Watcher(ws, clock, settle=0.2).run(once=True)
    places = {"归档": ws.archive, "退回": ws.rejected, "回执": ws.receipts, "台帐": ws.ledger}
    return DemoResult(workspace_status(ws, clock.now()), code, places)
