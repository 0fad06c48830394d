"""`tousu watch`: the inbox loop. watchdog events (or its polling observer on network shares) only
wake the loop; a timer rescan covers lost events. A file is taken once its size and mtime have not
changed for the settle interval and, for Office files, its zip directory reads whole; a copy still
in progress is waited for, never refused. SIGTERM/SIGINT finish the file in hand and stop.

What settling guarantees: a file still being copied or saved is never read. The quiet interval
(policy watch.settle_seconds) is kept whole — it is what covers a copy stalled on a network share,
which no lock shows (an exclusive-open test means nothing on Linux/macOS or SMB) — but a settling file
is looked at SETTLE_SAMPLES times per interval rather than twice, so it is taken at most 1.1x the
interval after its last change instead of 1.5x; and a file changed while the loop was busy (writing a
ledger) is dated by its mtime (Settler.observe), not by the next look. A zip (.xlsx/.xlsm/.docx/.ods)
must also read whole: its central directory is written last. The ledgers are brought up to date after
a pass that filed something, and otherwise once per rescan (an open deadline passing), not on every
look at a settling file.

Every file is handled inside its own error boundary: a failure that belongs to the file (unreadable,
a parser crash) is retried with back-off and then the file is refused with its explanation; a failure
of the workspace (disk full, permissions, a busy journal) pauses the loop and retries, blaming no file.
One file never holds up the others, and `--once` always ends."""
import logging
import sqlite3
import sys
import threading
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from watchdog.events import (
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from .archive import ArchiveConflict
from .batch import mark_pending, refresh_ledgers
from .clock import Clock
from .errors import CalendarError, WorkspaceUnavailable, os_reason, sqlite_reason
from .files import printable
from .forms.safety import check_size, refuse
from .inbox import (
    Claim,
    claim,
    describe_special,
    file_away,
    leftover_claims,
    pending,
    read_held,
    special_files,
    write_held,
    write_receipt,
)
from .ledger import behind_years, case_years
from .process import new_submission_id, process, record_refusal_of
from .receipt import Receipt

ZIP_SUFFIXES = (".xlsx", ".xlsm", ".docx", ".ods")
SETTLE_SAMPLES = 10     # a settling file is looked at this many times per settle interval (taken <= 1.1x after)
BROKEN_AFTER = 2.0      # seconds past settling after which a file that is still not whole is taken (and refused)
RETRY_DELAYS = (1.0, 3.0)   # seconds before the 2nd and 3rd attempt at a file that failed; then it is refused
ENVIRONMENT_PAUSE = (1.0, 30.0)
HELD_RETRY = 300.0      # seconds between tries at an inbox file that could not be moved
ONCE_LIMIT = 60.0       # `--once` waits this long at most for files still being written, then leaves them
LOG_BYTES, LOG_BACKUPS = 5 * 1024 * 1024, 5
log = logging.getLogger("tousu.watch")


@dataclass
class Settler:
    """Which inbox files are complete: unchanged (size, mtime) for `settle` seconds and whole — or
    unchanged for BROKEN_AFTER seconds more, when the file is simply truncated."""
    settle: float
    seen: dict = field(default_factory=dict)        # path -> ((size, mtime_ns), unchanged since)
    looked: float | None = None                     # when the inbox was last looked at

    def observe(self, paths, now: float, wall: float | None = None) -> list[Path]:
        """The files ready now (`now` on the monotonic clock, `wall` the same moment by time.time()).
        A change made since the last look is dated by the file's mtime when that falls after the last
        look (a file dropped while the loop wrote a ledger settles from its drop, not from this look),
        else at this look (an mtime set back by a copy, or a clock step, never shortens the wait); a
        file so dated must then keep its size and mtime for one more look before it is taken."""
        wall = time.time() if wall is None else wall
        ready, current = [], {}
        for path in paths:
            try:
                stat = path.stat()
            except OSError:                          # vanished between listing and stat
                continue
            signature = (stat.st_size, stat.st_mtime_ns)
            previous = self.seen.get(path)
            steady = previous is not None and previous[0] == signature
            written = now - (wall - stat.st_mtime_ns / 1e9)        # its mtime on the monotonic clock
            if steady:
                since = previous[1]
            elif self.looked is not None and self.looked < written <= now:
                since = written
            else:
                since = now
            current[path] = (signature, since)
            quiet = now - since
            dated = not steady and since < now
            if not dated and quiet >= self.settle and (quiet >= self.settle + BROKEN_AFTER or is_whole(path)):
                ready.append(path)
        self.seen, self.looked = current, now
        return ready

    @property
    def waiting(self) -> int:
        return len(self.seen)


def is_whole(path: Path) -> bool:
    """An Office file whose central directory is not readable is still being written (unless it is
    too large to be a form at all: then it is taken, and refused by its size)."""
    if path.suffix.lower() not in ZIP_SUFFIXES:
        return True
    try:
        if check_size(path) is not None:
            return True
    except OSError:
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head != b"PK\x03\x04":
            return True                              # not a zip at all: let the safety check refuse it
        with zipfile.ZipFile(path) as archive:
            archive.namelist()
        return True
    except (zipfile.BadZipFile, OSError):
        return False


class Wake(FileSystemEventHandler):
    """A change in the inbox wakes the loop; the decision is the Settler's. Opening and reading a file
    (the watcher's own reads included) is not a change."""
    IGNORED = (FileOpenedEvent, FileClosedNoWriteEvent)

    def __init__(self, event: threading.Event):
        self.event = event

    def on_any_event(self, event):
        if not isinstance(event, self.IGNORED):
            self.event.set()


@dataclass
class Attempts:
    """Failed attempts per submission: when the next may run, and what went wrong last."""
    failures: dict = field(default_factory=dict)     # key -> (count, not before (monotonic), message)

    def due(self, key: str, now: float) -> bool:
        entry = self.failures.get(key)
        return entry is None or now >= entry[1]

    def fail(self, key: str, now: float, message: str) -> bool:
        """Record a failure; True when the file has had its last chance."""
        count = self.failures.get(key, (0, 0, ""))[0] + 1
        if count > len(RETRY_DELAYS):
            self.failures.pop(key, None)
            return True
        self.failures[key] = (count, now + RETRY_DELAYS[count - 1], message)
        return False

    def forget(self, key: str) -> None:
        self.failures.pop(key, None)

    @property
    def waiting(self) -> int:
        return len(self.failures)


def environment_failure(exc: BaseException) -> WorkspaceUnavailable | None:
    """The workspace, not the file, failed: disk full, permissions, a busy or unwritable journal."""
    if isinstance(exc, WorkspaceUnavailable):
        return exc
    if isinstance(exc, sqlite3.Error):
        return WorkspaceUnavailable(f"日志数据库暂时无法写入：{sqlite_reason(exc)}。")
    if isinstance(exc, OSError):
        return WorkspaceUnavailable.from_os(exc, "工作区暂时无法写入")
    return None


class Watcher:
    def __init__(self, ws, clock: Clock = Clock(), poll: float | None = None, settle: float | None = None,
                 rescan: float | None = None, on_receipt=None):
        self.ws, self.clock, self.poll = ws, clock, poll
        self.settler = Settler(ws.policy.settle_seconds if settle is None else settle)
        self.rescan = ws.policy.rescan_seconds if rescan is None else rescan
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.on_receipt = on_receipt             # e.g. print each receipt as JSON (`tousu watch --json`)
        self.attempts = Attempts()
        self.environment: str | None = None      # the workspace failure being waited out, logged once
        self.pause = ENVIRONMENT_PAUSE[0]
        self.ledgers_checked = -float("inf")     # when the ledgers were last brought up to date (monotonic)

    def stop(self, *_):
        self.stopping.set()
        self.wake.set()

    # ------------------------------------------------------------------ one file
    def _finish(self, taken: Claim, receipt: Receipt) -> None:
        target = file_away(self.ws, taken, receipt)
        self.attempts.forget(taken.id)
        if self.on_receipt:
            self.on_receipt(receipt)
        problems = "；".join(p.describe() for p in receipt.problems)
        log.info(f"{self.clock.now():%Y-%m-%d %H:%M:%S} {printable(taken.name)} -> {receipt.status} "
                 f"{receipt.number or ''} {printable(self.ws.relative(target))} {problems}".rstrip())
        if receipt.status == "accepted":
            mark_pending(self.ws, case_years(self.ws.journal, [receipt.number]))

    def _refuse(self, taken: Claim, message: str) -> None:
        receipt = record_refusal_of(taken.path, self.ws, [refuse(message)], self.clock, "inbox", taken.name,
                                    taken.arrived_at, taken.id)
        self._finish(taken, receipt)

    def handle(self, taken: Claim) -> None:
        """Process one claimed file inside its own error boundary."""
        if not self.attempts.due(taken.id, time.monotonic()):
            return
        try:
            receipt = process(taken.path, self.ws, self.clock, "inbox", taken.name, taken.arrived_at, taken.id)
            self._finish(taken, receipt)
        except CalendarError as exc:                 # the office's calendar lacks a year: one clear outcome
            self._refuse(taken, f"{exc}（表单本身无误：服务管理办公室补充日历后，请重新放入本表单。）")
        except ArchiveConflict as exc:               # the archive holds a file the journal does not know:
            self._hold(taken, str(exc))              # never the clerk's fault, never overwritten
        except Exception as exc:                     # noqa: BLE001 - the boundary of one file
            failure = environment_failure(exc)
            if failure is not None:
                raise failure from exc
            detail = str(exc) or type(exc).__name__
            if self.attempts.fail(taken.id, time.monotonic(), detail):
                log.error(f"{printable(taken.name)} 多次处理失败，已退回：{printable(detail)}")
                log.debug("".join(traceback.format_exception(exc)))
                self._refuse(taken, f"处理该文件时多次出错（{detail}），已退回。请用 Excel/WPS/Word 打开确认"
                                    f"内容完整后另存为 .xlsx/.docx 再放入；仍不行请联系服务管理办公室。")
            else:
                log.warning(f"{printable(taken.name)} 处理失败，稍后重试：{printable(detail)}")

    def _hold(self, taken: Claim, reason: str) -> None:
        """Keep a claimed file aside (logged once, shown by `tousu status`) and try again later."""
        held = read_held(self.ws)
        name = printable(taken.name)
        if name not in held:
            log.error(f"{name} 暂不处理：{reason}")
        held[name] = {"reason": reason, "at": self.clock.now().isoformat(timespec="seconds")}
        write_held(self.ws, held)
        self.attempts.failures[taken.id] = (0, time.monotonic() + HELD_RETRY, reason)

    def _answer_special_files(self) -> None:
        """Links and other special files: answered once in place (receipt, log line, `tousu status`)."""
        held = read_held(self.ws)
        present = {printable(entry.name) for entry in self.ws.inbox.iterdir()}
        present |= {printable(c.name) for c in leftover_claims(self.ws)}
        changed = any(name not in present for name in held)
        held = {name: entry for name, entry in held.items() if name in present}
        for path in special_files(self.ws):
            name = printable(path.name)
            if name in held:
                continue
            reason = describe_special(path)
            receipt = Receipt(name, "refused", problems=[refuse(reason)],
                              submission=new_submission_id(self.clock.now()))
            write_receipt(self.ws, name, receipt)
            held[name] = {"reason": reason, "at": self.clock.now().isoformat(timespec="seconds")}
            log.warning(f"{name} 未处理：{reason}")
            changed = True
        if changed:
            write_held(self.ws, held)

    def _take(self, path: Path) -> Claim | None:
        try:
            return claim(self.ws, path, self.clock.now())
        except FileNotFoundError:
            return None
        except OSError as exc:                       # held open elsewhere, or no right to move it
            key = f"inbox:{path.name}"
            if self.attempts.fail(key, time.monotonic(), str(exc)):
                held = read_held(self.ws)
                held[printable(path.name)] = {"reason": f"无法从收件箱取走（{os_reason(exc)}），请关闭占用"
                                                        f"该文件的程序或检查权限",
                                              "at": self.clock.now().isoformat(timespec="seconds")}
                write_held(self.ws, held)
                log.error(f"{printable(path.name)} 无法从收件箱取走：{os_reason(exc)}")
            return None

    # ------------------------------------------------------------------ the loop
    def step(self) -> int:
        """One pass: finish claims a crash left, take every settled file, then update the ledgers once.
        Returns the number of files handled."""
        handled = 0
        for taken in leftover_claims(self.ws):
            if self.stopping.is_set():
                return handled
            self.handle(taken)
            handled += 1
        held = read_held(self.ws)
        for path in self.settler.observe(pending(self.ws), time.monotonic()):
            if self.stopping.is_set():
                break
            if self._held_back(held, path) or not self.attempts.due(f"inbox:{path.name}", time.monotonic()):
                continue
            taken = self._take(path)
            if taken is not None:
                self.handle(taken)
                handled += 1
        self._answer_special_files()
        if handled or time.monotonic() >= self.ledgers_checked + self.rescan:
            for message in refresh_ledgers(self.ws, [], self.clock.now()):
                log.warning(message)
            self.ledgers_checked = time.monotonic()
        return handled

    def _held_back(self, held: dict, path: Path) -> bool:
        """A file that could not be moved is tried again only every HELD_RETRY seconds."""
        entry = held.get(printable(path.name))
        if entry is None:
            return False
        return (self.clock.now() - datetime.fromisoformat(entry["at"])).total_seconds() < HELD_RETRY

    def _busy(self) -> bool:
        """Whether files are still settling or waiting for a retry (files held back do not count)."""
        held = read_held(self.ws)
        waiting = [p for p in self.settler.seen if not self._held_back(held, p)]
        retrying = [c for c in leftover_claims(self.ws) if printable(c.name) not in held]
        return bool(waiting) or bool(retrying)

    def _waiting_names(self) -> list[str]:
        return [printable(p.name) for p in self.settler.seen] + [printable(c.name) for c in leftover_claims(self.ws)]

    def run(self, once: bool = False) -> int:
        """Watch until stopped (or, with `once`, until the inbox is done). Returns the exit code."""
        observer = PollingObserver(timeout=self.poll) if self.poll else Observer()
        observer.schedule(Wake(self.wake), str(self.ws.inbox), recursive=False)
        observer.start()
        started, recovered = time.monotonic(), False
        log.info(f"{self.clock.now():%Y-%m-%d %H:%M:%S} 开始监视 {self.ws.inbox}"
                 f"（{'轮询 ' + str(self.poll) + ' 秒' if self.poll else '文件通知'}）")
        try:
            while not self.stopping.is_set():
                try:
                    if not recovered:                # what a crash left unwritten (a journal down is waited out)
                        mark_pending(self.ws, behind_years(self.ws, self.clock.now()))
                        recovered = True
                    self.step()
                    if self.environment:
                        log.info(f"工作区已恢复：{self.environment}")
                    self.environment, self.pause = None, ENVIRONMENT_PAUSE[0]
                except Exception as exc:             # noqa: BLE001 - the workspace failed, not a file
                    failure = environment_failure(exc) or WorkspaceUnavailable(f"收件箱暂时无法访问（{exc}）")
                    if str(failure) != self.environment:
                        log.error(f"{failure}稍后自动重试。")
                        self.environment = str(failure)
                    if once:                         # a scheduled run: the next one retries
                        return 2
                    self.stopping.wait(self.pause)
                    self.pause = min(self.pause * 2, ENVIRONMENT_PAUSE[1])
                    continue
                busy = self._busy()
                if once and not busy:
                    break
                if once and time.monotonic() - started > ONCE_LIMIT:
                    log.warning(f"仍有文件在写入或等待重试，留待下次处理：{'、'.join(self._waiting_names())}")
                    break
                self.wake.wait(timeout=min(self.rescan, max(self.settler.settle / SETTLE_SAMPLES, 0.02))
                               if busy else self.rescan)
                self.wake.clear()
        finally:
            observer.stop()
            observer.join(timeout=5)
            log.info(f"{self.clock.now():%Y-%m-%d %H:%M:%S} 停止监视")
        return 0


def configure_logging(ws, console: bool = True) -> None:
    """One line per file to <ws>/.tousu/watch.log (rotated) and, unless JSON is printed instead, to stdout."""
    formatter = logging.Formatter("%(message)s")
    handlers = [RotatingFileHandler(ws.state / "watch.log", maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                    encoding="utf-8", errors="backslashreplace")]
    handlers += [logging.StreamHandler(sys.stdout)] if console else []
    for handler in log.handlers[:]:
        log.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    logging.getLogger("watchdog").setLevel(logging.CRITICAL)   # its shutdown race message is harmless
    logging.raiseExceptions = False     # a log that cannot be written (full disk) never prints a traceback
