"""python -m toolkit.bench_group [--hosts 6] [--numbers 300] [--forms 60] [--gap 0.1]: the group journal's
figures on a throw-away PostgreSQL server (toolkit/journal_pgserver.py), printed as a table.

- numbers issued per second under contention: `--hosts` processes, each its own connection, issue
  `--numbers` numbers each in their own transactions — all of one office (every host waits for the
  office's lock and its counter row), then spread over three offices (offices do not wait for each other);
- drop → archived, p50 / p95: three offices with a `tousu watch` each (subprocesses of the installed
  tousu), a form dropped every `--gap` seconds into each office's inbox in turn, timed until its receipt."""
import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from .bench import RECEIPT_TIMEOUT, make_forms
from .inbox import find_receipt
from .journal_pg import PgStore
from .journal_pgserver import ScratchServer
from .numbering import NumberPattern
from .torture import GROUP_OFFICES, TOUSU, _office

MOMENT = datetime(2026, 12, 31, 12)


def _issue(args) -> tuple[float, float]:
    """Issue `count` numbers once every host is connected; (first start, last end) in wall-clock seconds."""
    url, office, count, start_at = args
    journal = PgStore(url, office).open()
    pattern = NumberPattern(f"TS{office}{{YYYY}}{{MM}}{{seq:04d}}")
    time.sleep(max(0.0, start_at - time.time()))
    started = time.time()
    try:
        for _ in range(count):
            with journal.transaction():
                journal.issue_number(pattern, MOMENT)
    finally:
        journal.close()
    return started, time.time()


def numbers_per_second(url: str, offices: list[str], hosts: int, each: int) -> float:
    for office in set(offices):
        PgStore(url, office).open().close()             # the schemas first: creating them is not issuing
    start_at = time.time() + 5.0                        # every host started and connected by then
    jobs = [(url, offices[i % len(offices)], each, start_at) for i in range(hosts)]
    with multiprocessing.get_context("spawn").Pool(hosts) as pool:
        spans = pool.map(_issue, jobs)
    return hosts * each / (max(end for _, end in spans) - min(start for start, _ in spans))


def drop_latencies(root: Path, url: str, count: int, gap: float) -> list[float]:
    offices = {code: _office(root, code, url) for code in GROUP_OFFICES}
    env = {**os.environ, "TOUSU_NOW": "2026-12-31T12:00:00"}
    env.pop("TOUSU_JOURNAL", None)
    watchers = [subprocess.Popen([TOUSU, "watch", "-w", str(ws), "--settle", "0.2"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for ws in offices.values()]
    forms = make_forms(root / "forms", count)
    pending: dict = {}
    latencies = []
    try:
        time.sleep(2.0)                                 # the watchers up
        codes = list(offices)
        for i, form in enumerate(forms):
            ws = offices[codes[i % len(codes)]]
            shutil.copyfile(form, ws / "inbox" / form.name)
            pending[form.name] = (ws, time.perf_counter())
            time.sleep(gap)
            latencies += _collect(pending)
        deadline = time.perf_counter() + RECEIPT_TIMEOUT
        while pending and time.perf_counter() < deadline:
            latencies += _collect(pending)
            time.sleep(0.01)
        if pending:
            raise SystemExit(f"no receipt for {len(pending)} forms after {RECEIPT_TIMEOUT} s")
    finally:
        for watcher in watchers:
            watcher.terminate()
            watcher.wait(timeout=60)
    return latencies


def _collect(pending: dict) -> list[float]:
    done = [(name, time.perf_counter() - dropped) for name, (ws, dropped) in pending.items()
            if find_receipt(ws / "receipts", name) is not None]
    for name, _ in done:
        del pending[name]
    return [seconds for _, seconds in done]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="tousu group journal benchmark (PostgreSQL)")
    parser.add_argument("--hosts", type=int, default=6)
    parser.add_argument("--numbers", type=int, default=300, help="numbers issued by each host")
    parser.add_argument("--forms", type=int, default=60)
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between two drops")
    args = parser.parse_args(argv)
    server = ScratchServer().start()
    try:
        with tempfile.TemporaryDirectory() as temp:
            one = numbers_per_second(server.create_database("one"), ["SM"], args.hosts, args.numbers)
            three = numbers_per_second(server.create_database("three"), list(GROUP_OFFICES), args.hosts,
                                       args.numbers)
            latencies = sorted(drop_latencies(Path(temp), server.create_database("drops"), args.forms, args.gap))
    finally:
        server.destroy()
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(f"{'numbers/s, ' + str(args.hosts) + ' hosts, one office':>44}: {one:8.0f}")
    print(f"{'numbers/s, ' + str(args.hosts) + ' hosts, three offices':>44}: {three:8.0f}")
    print(f"{'drop -> archived p50 (3 offices, 3 watchers)':>44}: {statistics.median(latencies):8.3f} s")
    print(f"{'drop -> archived p95':>44}: {p95:8.3f} s")


if __name__ == "__main__":
    main()
