"""`tousu verify`: a file-system check of the workspace. The archive is the truth; the journal, the
ledgers and the receipts must agree with it. Every inconsistency is listed with its path and what it
means; nothing is changed (the fix is usually `tousu ledger rebuild`, see README)."""
import glob
import hashlib
import re
import sqlite3
from dataclasses import dataclass

import openpyxl

from .archive import CASE_FOLDERS, sidecar_of
from .counters import Counters, read_counters
from .inbox import leftover_claims
from .journal import Journal, JournalUnusable
from .ledger import behind_years, ledger_path
from .numbering import NumberPattern
from .provenance import Provenance
from .rebuild import build_journal, read_archive

FORM_FILE = re.compile(r"-v\d+\.[A-Za-z]+$")
FILE_FIELDS = ("submission", "ord", "sha256", "original_name", "arrived_at", "kind", "number", "version", "path",
               "status", "submitted_by", "problems", "facts")


@dataclass(frozen=True)
class Finding:
    path: str
    problem: str

    def to_json(self) -> dict:
        return {"path": self.path, "problem": self.problem}


def _archive_findings(ws, entries: list) -> list[Finding]:
    found = []
    for record, relative in entries:
        if isinstance(record, Provenance) and record.archived_sha256:
            data = (ws.root / relative).read_bytes()
            if hashlib.sha256(data).hexdigest() != record.archived_sha256:
                found.append(Finding(relative, "归档表单的内容与归档时不同（被修改或替换过）"))
    for form in ws.archive.glob(f"{CASE_FOLDERS}/*"):
        twins = form.parent.glob(f"{glob.escape(form.stem)}.*")     # an original kept beside its numbered twin
        if form.is_file() and FORM_FILE.search(form.name) and not any(sidecar_of(f).exists() for f in (form, *twins)):
            found.append(Finding(ws.relative(form), "归档表单缺少来源记录（.meta.json），重建时不会采用"))
    return found


def _counter_findings(ws, entries: list) -> list[Finding]:
    pattern = NumberPattern(ws.policy.number_pattern)
    needed = Counters(max((r.order for r, _ in entries), default=0))
    for record, _ in entries:
        if isinstance(record, Provenance) and record.form == "intake" and pattern.matches(record.number):
            period, seq = pattern.split(record.number)
            needed.sequences[period] = max(needed.sequences.get(period, 0), seq)
    counters = read_counters(ws.archive)
    if counters is None:
        return [Finding("archive/.counters.json", "归档计数文件缺失或无法读取（下次写入时按日志与归档恢复）")]
    if not counters.covers(needed):
        return [Finding("archive/.counters.json", f"归档计数 {counters.to_json()} 低于归档中已有的编号或顺序 "
                                                  f"{needed.to_json()}")]
    return []


def _journal_findings(live: dict, rebuilt: dict) -> list[Finding]:
    found = []
    live_files, built_files = live["files"], rebuilt["files"]
    for submission in sorted(set(live_files) | set(built_files)):
        mine, truth = live_files.get(submission), built_files.get(submission)
        where = (truth or mine)[FILE_FIELDS.index("path")] or f"提交 {submission}"
        if truth is None:
            found.append(Finding(where, "日志中有记录，归档中没有（文件或案卷被删除？）"))
        elif mine is None:
            found.append(Finding(where, "归档中有，日志中没有"))
        elif mine != truth:
            fields = [FILE_FIELDS[i] for i, (a, b) in enumerate(zip(mine, truth, strict=True)) if a != b]
            found.append(Finding(where, f"日志与归档记录不一致：{'、'.join(fields)}"))
    for number in sorted(set(live["cases"]) | set(rebuilt["cases"])):
        mine, truth = live["cases"].get(number), rebuilt["cases"].get(number)
        if truth is None:
            found.append(Finding(f"案件 {number}", "日志中有该案件，归档中没有其案卷"))
        elif mine is None:
            found.append(Finding(f"案件 {number}", "归档中有该案卷，日志中没有"))
        elif mine != truth:
            found.append(Finding(f"案件 {number}", "日志中的案件状态与按归档重算的不一致"))
    return found


def _ledger_findings(ws, journal: Journal) -> list[Finding]:
    """Each year's ledger lists exactly the cases the archive holds for that year."""
    found = []
    for year in journal.years():
        path = ledger_path(ws, year)
        if not path.exists():
            found.append(Finding(ws.relative(path), "台帐文件缺失"))
            continue
        try:
            book = openpyxl.load_workbook(path, read_only=True)
            listed = {str(v) for sheet in book.worksheets
                      for (v,) in sheet.iter_rows(min_col=2, max_col=2, values_only=True) if v and str(v) != "投诉编号"}
            book.close()
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is a finding
            found.append(Finding(ws.relative(path), f"台帐无法读取（{type(exc).__name__}）"))
            continue
        expected = {n for n in journal.case_numbers() if n and journal.case(n)["received_at"][:4] == str(year)}
        if listed != expected:
            found.append(Finding(ws.relative(path), f"台帐与日志不一致：缺 {len(expected - listed)} 件，多 "
                                                    f"{len(listed - expected)} 件"))
    return found


def _receipt_findings(ws, live: dict) -> list[Finding]:
    """Every inbox submission has its receipt, both the clerk's text and the program's JSON."""
    names = {suffix: " ".join(p.name for p in ws.receipts.glob(f"*.回执.{suffix}")) for suffix in ("txt", "json")}
    found = []
    for row in live["files"].values():
        submission, submitted_by = row[0], row[FILE_FIELDS.index("submitted_by")]
        where = row[FILE_FIELDS.index("path")] or row[FILE_FIELDS.index("original_name")]
        for suffix, listed in names.items():
            if submitted_by == "inbox" and f".{submission.rsplit('-', 1)[-1]}.回执.{suffix}" not in listed:
                found.append(Finding(where, f"提交 {submission} 缺少回执（.回执.{suffix}）"))
    return found


def _rejected_findings(ws) -> list[Finding]:
    """Every refused file in rejected/ has its 错误说明 beside it."""
    return [Finding(ws.relative(p), "退回的文件缺少错误说明（.错误说明.txt）") for p in ws.rejected.iterdir()
            if p.is_file() and not p.name.endswith(".错误说明.txt")
            and not p.with_name(p.name + ".错误说明.txt").exists()]


def _stray_findings(ws) -> list[Finding]:
    """Files in the case folders that tousu did not put there, and empty case folders."""
    found = []
    for folder in ws.archive.glob(CASE_FOLDERS):
        if not folder.is_dir():
            found.append(Finding(ws.relative(folder), "案卷位置上是文件而不是文件夹"))
            continue
        entries = list(folder.iterdir())
        if not entries:
            found.append(Finding(ws.relative(folder), "空的案卷文件夹（其表单可能已被删除）"))
        for entry in entries:
            if entry.name == "重复提交" and entry.is_dir():
                continue
            if not entry.name.startswith(f"{folder.name}-"):
                found.append(Finding(ws.relative(entry), "案卷中有不属于本案的文件（不是 tousu 归档的）"))
    return found


def _edited_ledger_findings(ws, journal, now) -> list[Finding]:
    """A ledger changed since tousu wrote it, or missing changes the journal holds."""
    if journal is None:
        return []
    problem = ("台帐与最后一次写入时不同（被手工修改），或尚未包含日志中的最新变化；"
               "下一批次或 tousu ledger rebuild 时重写")
    return [Finding(ws.relative(ledger_path(ws, year)), problem)
            for year in sorted(behind_years(ws, now, journal))]


def _leftover_findings(ws) -> list[Finding]:
    found = [Finding(ws.relative(c.path), "处理中断的文件（监视程序下次启动时完成）") for c in leftover_claims(ws)]
    if ws.staging.exists():
        found += [Finding(ws.relative(p), "未完成归档的暂存文件") for p in ws.staging.iterdir()]
    half_written = [*ws.ledger.glob(".*.writing*"), *ws.reports.glob(".*.writing*"), *ws.notices.glob(".*.writing*"),
                    *ws.journal_store.leftovers()]
    found += [Finding(str(p), "写到一半的临时文件（可删除）") for p in half_written]
    return found


def _live_journal(ws) -> tuple[Journal | None, list[Finding]]:
    """The journal as it is, read-only: verify repairs nothing (the next writer will)."""
    try:
        return ws.journal_store.reader(), []
    except (JournalUnusable, sqlite3.Error) as exc:
        return None, [Finding(ws.journal_store.location, f"日志无法读取（{exc}）：下次写入时按归档自动重建，"
                                                  f"或运行 tousu ledger rebuild")]


def verify(ws, now) -> list[Finding]:
    """Every inconsistency between the archive, the journal, the ledgers and the receipts; changes nothing."""
    with ws.holding(), ws.journal_store.scratch() as scratch:
        skipped: list = []
        entries = read_archive(ws, skipped)
        findings = [Finding(path, f"无法采用：{reason}") for path, reason in skipped]
        findings += _archive_findings(ws, entries) + _counter_findings(ws, entries) + _stray_findings(ws)
        built = build_journal(ws, scratch, keep_counters=False)
        findings += [Finding(path, f"无法采用：{reason}") for path, reason in built.skipped
                     if (path, reason) not in skipped]
        rebuilt = scratch.reader()
        journal, unusable = _live_journal(ws)
        findings += unusable
        try:
            live = journal.snapshot() if journal else {"cases": {}, "files": {}}
            if journal:
                findings += _journal_findings(live, rebuilt.snapshot())
            findings += _ledger_findings(ws, rebuilt) + _edited_ledger_findings(ws, journal, now)
        finally:
            rebuilt.close()
            if journal:
                journal.close()
        findings += _receipt_findings(ws, live) + _rejected_findings(ws) + _leftover_findings(ws)
    return findings
