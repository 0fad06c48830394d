"""What each `tousu` command does, as library calls that return one result object each (pipx's
OperationResult pattern): the CLI parses options, calls one function here and renders the result once,
as Chinese text or as JSON lines (toolkit/results.py). Nothing here prints or exits."""
import shutil
from datetime import datetime
from pathlib import Path

from . import group
from .batch import process_batch, rebuild_all
from .clock import Clock
from .deadlines import DeadlineRules
from .errors import BadArgument, ConfigError
from .forms.values import ValueIssue, parse_datetime
from .notices import find_overdue, issue_notices, listing_warnings
from .paths import SAMPLES
from .policy import REQUIRED_DATE, Policy, adopt_policy, shipped_policy
from .process import check as check_file
from .report import write_report, write_score_sheet
from .results import (
    DbInitResult,
    DemoResult,
    DueResult,
    GroupReportResult,
    GroupScoreResult,
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


def init(directory: Path, policy_name: str | None = None) -> InitResult:
    """Create the workspace; with `policy_name`, start it under a shipped policy (templates/policies/)."""
    if policy_name:
        shipped_policy(policy_name)             # an unknown name creates nothing
    ws = Workspace.open(directory)
    if policy_name:
        adopt_policy(ws.root, policy_name)
    with ws.locked():                           # creates the journal's schema and the archive counters
        pass
    return InitResult(ws.root, ws.journal_path)


def process(ws: Workspace, files: list[Path], clock: Clock) -> ReceiptsResult:
    receipts, messages = process_batch(ws, files, clock)
    return ReceiptsResult(receipts, notes=messages)


def check(policy: Policy, files: list[Path], clock: Clock) -> ReceiptsResult:
    return ReceiptsResult([check_file(path, policy, clock) for path in files])


def due(policy: Policy, channel: str, tier: str, received: str, required_date: str | None,
        clock: Clock) -> DueResult:
    if tier not in policy.tier_names:
        raise BadArgument(f"投诉性质「{tier}」不在本工作区策略的等级之中；可选：{'、'.join(policy.tier_names)}。")
    start = moment(received, clock, "受理时间")
    required = moment(required_date, clock, "要求办结日期").date() if required_date else None
    channel_class, _ = policy.channel_class(channel)
    deadlines = DeadlineRules(policy).intake(channel_class, tier, start, required)
    fallback = required is None and policy.limit(channel_class, tier, "investigation") == REQUIRED_DATE
    return DueResult(channel_class, tier, start, deadlines, policy.fallback_class if fallback else None,
                     policy.stage_names)


def rebuild(ws: Workspace, clock: Clock, reread: bool = False) -> RebuildResult:
    result, messages = rebuild_all(ws, clock, reread)
    return RebuildResult(result, sorted(p.name for p in ws.ledger.glob("投诉管理台帐-*.xlsx")),
                         [*result.notes, *messages])


def verify(ws: Workspace, clock: Clock) -> VerifyResult:
    return VerifyResult(verify_workspace(ws, clock.now()))


def score(ws: Workspace, month: str, clock: Clock) -> ScoreResult:
    scores = score_month(ws.journal, ws.policy, month, clock.now())
    path = write_score_sheet(ws, month, scores)
    return ScoreResult(month, scores, ws.relative(path), score_warnings(scores))


def overdue(ws: Workspace, as_of: str | None, notices: bool, clock: Clock) -> OverdueResult:
    when = moment(as_of, clock)
    items = find_overdue(ws.journal, when, ws.policy)
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


def db_init(ws: Workspace) -> DbInitResult:
    """Create the office's tables on the journal server (nothing when they exist), then check the journal
    against the archive."""
    from .journal_pg import PgStore  # psycopg is loaded only for a server journal
    store = ws.journal_store
    if not isinstance(store, PgStore):
        raise ConfigError("未设置日志数据库：请在策略 [journal] url 或环境变量 TOUSU_JOURNAL 中设置 postgresql://…")
    journal = store.open()
    try:
        created = bool(store.init(journal))
        offices = [code for code, _ in store.offices(journal)]
    finally:
        journal.close()
    with ws.locked():                   # the office's journal agrees with its archive from now on
        pass
    return DbInitResult(store.location, ws.office, store.schema, created, offices)


def group_report(ws: Workspace, month: str, clock: Clock) -> GroupReportResult:
    path, figures = group.group_report(ws, month, clock.now())
    return GroupReportResult(month, ws.relative(path), figures)


def group_score(ws: Workspace, month: str, clock: Clock) -> GroupScoreResult:
    path, scores = group.group_scores(ws, month, clock.now())
    return GroupScoreResult(month, ws.relative(path), scores)
