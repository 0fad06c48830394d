"""The workspace as the web view reads it: never the lock, never a write. The journal is opened
read-only (SQLite `mode=ro`) and re-opened when the file was replaced (a rebuild); figures that read
every case (the overdue stages, a month's report) are computed by the library's own functions once per
journal version and kept until the journal changes (`PRAGMA data_version`)."""
import gc
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from ..archive import SIDECAR_SUFFIX
from ..errors import WorkspaceUnavailable
from ..journal import Journal
from ..notices import Overdue, find_overdue
from ..period import month_bounds
from ..report import month_figures
from ..workspace import Workspace

PAGE_SIZE = 50


def supervised_stages(policy) -> tuple[str, ...]:
    """The policy's stages that can fall overdue (find_overdue's): met by a form, not a window."""
    return tuple(stage.key for stage in policy.stages if stage.met_by and not stage.window)


class _StillOpen:
    """The journal as find_overdue reads it (cases_received), narrowed by the journal to the cases with a
    stage still open: a closed case gives find_overdue nothing, and most cases of a year are closed."""

    def __init__(self, journal: Journal, policy):
        self.journal, self.stages = journal, supervised_stages(policy)

    def cases_received(self, start: datetime, end: datetime) -> list:
        return self.journal.cases_with_open_stage(self.stages, start, end)


@dataclass(frozen=True)
class Filters:
    month: str = ""
    unit: str = ""
    status: str = ""
    severity: str = ""          # one of the policy's tiers
    channel: str = ""           # a channel name as the 服务月报 counts it (Policy.channel_name)
    suspected: bool = False
    q: str = ""                 # number, phone or customer name
    page: int = 1


class Reader:
    def __init__(self, root: Path, freeze: bool = False):
        self.ws = Workspace(Path(root).resolve())      # not Workspace.open: it would create folders
        self.store = self.ws.journal_store
        if self.store.identity() is None:
            raise WorkspaceUnavailable(f"工作区 {self.ws.root} 还没有日志（{self.ws.journal_path}）："
                                       f"请先运行 tousu init 或 tousu watch。网页只读，不会创建它。")
        self._journal: Journal | None = None
        self._identity = None
        self._version = None
        self._memo: dict = {}
        self.freeze = freeze                            # a long-lived server process (see _kept)

    @property
    def policy(self):
        return self.ws.policy

    @property
    def journal(self) -> Journal:
        """The read-only journal; a new connection when the journal was replaced, the memo dropped when
        anyone committed since the last call."""
        identity = self.store.identity()
        if identity is None:
            raise WorkspaceUnavailable(f"日志 {self.ws.journal_path} 不存在（可能正在重建）")
        if self._journal is None or identity != self._identity:
            if self._journal is not None:
                self._journal.close()
            self._journal = self.store.reader()
            self._identity = identity
        version = (identity, self._journal.change_mark())
        if version != self._version:
            self._version, self._memo = version, {}
        return self._journal

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _memoised(self, key, compute):
        journal = self.journal
        if key not in self._memo:
            self._memo[key] = self._kept(compute(journal))
        return self._memo[key]

    def _kept(self, value):
        """`value` is kept until the journal changes. In a server (`freeze`) everything alive is then moved
        out of the garbage collector's reach, or every full collection would walk the hundreds of thousands
        of objects of 50,000 cases: a pause of ~100 ms in some request. What was frozen before is let go and
        collected first, so nothing stays frozen longer than one journal version."""
        if self.freeze:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        return value

    # ------------------------------------------------------------------ the library's figures
    def overdue(self, as_of: datetime) -> list[Overdue]:
        """find_overdue(journal, as_of), as `tousu overdue --as-of` lists it: the stages find_overdue gives
        up to the end of as_of's day are read once per journal version and day, then the moment's are those
        of a case received before it whose deadline passed before it — its very conditions. (Not up to the
        end of time: a recurring stage owes an occurrence every period until the case is closed.)"""
        return [item for _, _, item in self.stages_due(as_of)]

    def stages_due(self, as_of: datetime) -> list[tuple[str, datetime, Overdue]]:
        """(received_at, due, stage) of overdue(as_of), in its order."""
        horizon = datetime.combine(as_of.date() + timedelta(days=1), time.min)

        def compute(journal):
            received = journal.received_moments()
            return [(received[item.number], datetime.fromisoformat(item.due), item)
                    for item in find_overdue(_StillOpen(journal, self.policy), horizon, self.policy)]
        moment = as_of.isoformat(timespec="seconds")
        return [entry for entry in self._memoised(("open", horizon), compute)
                if entry[0] < moment and entry[1] < as_of]

    def month(self, month: str, now: datetime) -> tuple[dict, datetime]:
        """report.month_figures (its scores are scoring.score_month's), as `tousu report`/`score` compute them
        at the moment given; a month not over yet as of the start of the current minute (computed at most
        once a minute), a month over as of its end. Returns the figures and that moment."""
        as_of = min(now.replace(second=0, microsecond=0), month_bounds(month)[1])
        kept = self._memoised(("month", month), lambda j: {})        # {as_of: figures}, the latest only
        if as_of not in kept:
            figures = month_figures(self.journal, self.policy, month, as_of)
            kept.clear()
            kept[as_of] = self._kept(figures)
        return kept[as_of], as_of

    def notices(self) -> dict[tuple[str, str], str]:
        """{(number, stage): the notice's path} of every 督办通知单 issued (journal events)."""
        return self._memoised("notices", lambda j: {
            (event["number"], event["detail"].get("stage")): event["detail"].get("file")
            for event in reversed(j.events(("notice",), 1_000_000_000))})

    # ------------------------------------------------------------------ the case list
    def _listing(self) -> list[dict]:
        """Every case as the list shows it, nearest open deadline first: read once per journal version,
        so a filter, a search or a page is a pass over memory, not a scan of every case's JSON."""
        def compute(journal):
            names: dict = {}
            rows = []
            for row in journal.case_listing(supervised_stages(self.policy)):
                if row["channel"] not in names:
                    names[row["channel"]] = self.policy.channel_name(row["channel"])
                row.update(channel=names[row["channel"]],
                           next_due=None if row["next_due"] == "9999" else row["next_due"],
                           phone=row["phone"] or "", customer_name=row["customer_name"] or "")
                rows.append(row)
            return rows
        return self._memoised("listing", compute)

    def channels(self) -> list[str]:
        return self._memoised("channels", lambda j: sorted({row["channel"] for row in self._listing()}))

    def case_page(self, filters: Filters, unit_only: str | None) -> tuple[list[dict], int]:
        """A page of cases matching `filters` (and only `unit_only`'s when given), nearest open deadline
        first; with the number of matching cases."""
        start, end = (m.isoformat(timespec="seconds") for m in month_bounds(filters.month)) if filters.month \
            else ("", "9999")
        wanted = {"unit": unit_only or filters.unit, "status": filters.status, "severity": filters.severity,
                  "channel": filters.channel}
        wanted = {key: value for key, value in wanted.items() if value}
        q, upper = filters.q, filters.q.upper()
        found = [row for row in self._listing()
                 if start <= row["received_at"] < end and all(row[k] == v for k, v in wanted.items())
                 and (not filters.suspected or row["suspected"])
                 and (not q or row["number"] == upper or q in row["phone"] or q in row["customer_name"])]
        first = (filters.page - 1) * PAGE_SIZE
        return [dict(row) for row in found[first:first + PAGE_SIZE]], len(found)

    # ------------------------------------------------------------------ one case
    def case(self, number: str):
        return self.journal.case(number)

    def forms(self, number: str) -> list[dict]:
        """The case's kept forms in arrival order, each with its provenance."""
        return self.journal.case_forms(number)

    def archived_files(self, case: dict) -> dict[str, Path]:
        """{name: path} of the files in the case's folder, sidecars aside: the only names a download
        can ask for."""
        received = case["received_at"]
        folder = self.ws.case_folder(case["number"], int(received[:4]), int(received[5:7]))
        if not folder.is_dir():
            return {}
        return {p.name: p for p in sorted(folder.iterdir())
                if p.is_file() and not p.name.endswith(SIDECAR_SUFFIX) and not p.name.startswith(".")}
