"""`tousu watch`: the inbox loop. watchdog events (or its polling observer on network shares) only
wake the loop; a timer rescan covers lost events. A file is taken once its size and mtime have not
changed for the settle interval and, for Office files, its zip directory reads whole; a copy still
in progress is waited for, never refused. SIGTERM/SIGINT finish the file in hand and stop."""
import logging
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from .batch import refresh_ledgers
from .clock import Clock
from .errors import ConfigError
from .inbox import file_away, pending
from .ledger import case_years
from .process import process

ZIP_SUFFIXES = (".xlsx", ".xlsm", ".docx")
BROKEN_AFTER = 2.0      # seconds past settling after which a file that is still not whole is taken (and refused)
log = logging.getLogger("tousu.watch")


@dataclass
class Settler:
    """Which inbox files are complete: unchanged (size, mtime) for `settle` seconds and whole — or
    unchanged for BROKEN_AFTER seconds more, when the file is simply truncated."""
    settle: float
    seen: dict = field(default_factory=dict)        # path -> ((size, mtime_ns), first seen unchanged)

    def observe(self, paths, now: float) -> list[Path]:
        ready, current = [], {}
        for path in paths:
            try:
                stat = path.stat()
            except OSError:                          # vanished between listing and stat
                continue
            signature = (stat.st_size, stat.st_mtime_ns)
            previous = self.seen.get(path)
            since = previous[1] if previous and previous[0] == signature else now
            current[path] = (signature, since)
            quiet = now - since
            if quiet >= self.settle and (quiet >= self.settle + BROKEN_AFTER or is_whole(path)):
                ready.append(path)
        self.seen = current
        return ready

    @property
    def waiting(self) -> int:
        return len(self.seen)


def is_whole(path: Path) -> bool:
    """An Office file whose central directory is not readable is still being written."""
    if path.suffix.lower() not in ZIP_SUFFIXES:
        return True
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
    """Any change in the inbox wakes the loop; the decision is the Settler's."""

    def __init__(self, event: threading.Event):
        self.event = event

    def on_any_event(self, event):
        self.event.set()


class Watcher:
    def __init__(self, ws, clock: Clock = Clock(), poll: float | None = None, settle: float | None = None,
                 rescan: float | None = None, on_receipt=None):
        settings = ws.policy.section("watch")
        self.ws, self.clock, self.poll = ws, clock, poll
        self.settler = Settler(settings["settle_seconds"] if settle is None else settle)
        self.rescan = settings["rescan_seconds"] if rescan is None else rescan
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.on_receipt = on_receipt             # e.g. print each receipt as JSON (`tousu watch --json`)

    def stop(self, *_):
        self.stopping.set()
        self.wake.set()

    def handle(self, path: Path):
        """Process one settled file and file it away; returns (receipt, log line)."""
        now = self.clock.now()
        receipt = process(path, self.ws, self.clock, "watcher", path.name)
        target = file_away(self.ws, path, receipt, now)
        if self.on_receipt:
            self.on_receipt(receipt)
        problems = "；".join(p.describe() for p in receipt.problems)
        return receipt, (f"{now:%Y-%m-%d %H:%M:%S} {path.name} -> {receipt.status} {receipt.number or ''} "
                         f"{self.ws.relative(target)} {problems}").rstrip()

    def step(self) -> int:
        """One pass: take every settled file, then update the ledgers once. Returns files handled."""
        accepted = []
        handled = 0
        for path in self.settler.observe(pending(self.ws), time.monotonic()):
            if self.stopping.is_set():
                break
            try:
                receipt, line = self.handle(path)
                log.info(line)
            except ConfigError as exc:          # the policy needs fixing: leave the file, say why
                log.error(f"{path.name} 暂不处理：{exc}")
                continue
            handled += 1
            if receipt.status == "accepted":
                accepted.append(receipt.number)
        if handled:
            years = case_years(self.ws.journal, accepted)
            for message in refresh_ledgers(self.ws, years, self.clock.now()):
                log.warning(message)
        return handled

    def run(self, once: bool = False) -> None:
        observer = PollingObserver(timeout=self.poll) if self.poll else Observer()
        observer.schedule(Wake(self.wake), str(self.ws.inbox), recursive=False)
        observer.start()
        try:
            while not self.stopping.is_set():
                try:
                    self.step()
                except OSError as exc:               # a share that vanished: wait and resume
                    log.error(f"收件箱暂时无法访问（{exc}），稍后重试")
                    self.stopping.wait(min(self.rescan, 5))
                    continue
                if once and self.settler.waiting == 0:
                    break
                self.wake.wait(timeout=min(self.rescan, max(self.settler.settle / 2, 0.05)) if self.settler.waiting
                               else self.rescan)
                self.wake.clear()
        finally:
            observer.stop()
            observer.join(timeout=5)


def configure_logging(ws, console: bool = True) -> None:
    """One line per file to <ws>/.tousu/watch.log and, unless JSON is printed instead, to stdout."""
    formatter = logging.Formatter("%(message)s")
    handlers = [logging.FileHandler(ws.state / "watch.log", encoding="utf-8")]
    handlers += [logging.StreamHandler(sys.stdout)] if console else []
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    logging.getLogger("watchdog").setLevel(logging.CRITICAL)   # its shutdown race message is harmless
