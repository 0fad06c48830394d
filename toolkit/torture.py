"""python -m toolkit.torture [--drops 1000] [--kills 8]: the watcher and three `tousu process` runs
over the same workspace, the watcher killed -9 at random moments and restarted. At the end every
input must be in exactly one place, the numbers distinct and gap-free, the journal must agree with
the archive, and `ledger rebuild` must reproduce the live ledger. Prints the counts."""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import openpyxl

from .archive import SIDECAR_SUFFIX
from .bench import make_forms
from .workspace import Workspace

TOUSU = str(Path(sys.executable).parent / "tousu")
ENV = {**os.environ, "TOUSU_NOW": "2026-12-31T12:00:00"}


def _watch(root: Path, *extra) -> subprocess.Popen:
    return subprocess.Popen([TOUSU, "watch", "-w", str(root), "--settle", "0.2", *extra], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _ledger_rows(root: Path) -> dict:
    rows = {}
    for path in sorted((root / "ledger").glob("投诉管理台帐-*.xlsx")):
        book = openpyxl.load_workbook(path)
        rows[path.name] = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets}
    return rows


def run(root: Path, drops: int, kills: int, cli_runs: int = 3, seed: int = 7) -> dict:
    rng = random.Random(seed)
    forms = make_forms(root / "forms", drops)
    garbage = []
    for i in range(max(1, drops // 50)):
        bad = root / "forms" / f"损坏-{i}.xlsx"
        bad.write_bytes(os.urandom(2000))
        garbage.append(bad)
    inputs = forms + garbage
    rng.shuffle(inputs)
    cli_share = inputs[: len(inputs) * 3 // 10]
    dropped = inputs[len(cli_share):]
    ws_root = root / "ws"
    Workspace.open(ws_root)
    watcher = _watch(ws_root)

    def drop_all():
        for path in dropped:
            os.replace(path, ws_root / "inbox" / path.name)
            time.sleep(rng.uniform(0, 0.01))
    dropper = threading.Thread(target=drop_all)
    dropper.start()
    batches = [cli_share[k::cli_runs] for k in range(cli_runs)]
    clis = [subprocess.Popen([TOUSU, "process", "-w", str(ws_root), "--json", *map(str, batch)], env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for batch in batches]
    for _ in range(kills):
        time.sleep(rng.uniform(0.3, 1.5))
        watcher.send_signal(signal.SIGKILL)
        watcher.wait()
        watcher = _watch(ws_root)
    dropper.join()
    cli_out = [cli.communicate()[0] for cli in clis]
    watcher.send_signal(signal.SIGTERM)
    watcher.wait(timeout=60)
    subprocess.run([TOUSU, "watch", "-w", str(ws_root), "--once", "--settle", "0.2"], env=ENV, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return verify(ws_root, dropped, cli_out, kills)


def verify(ws_root: Path, dropped: list, cli_out: list, kills: int) -> dict:
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in (ws_root / "archive").glob(f"*/*/*/*{SIDECAR_SUFFIX}")]
    archived_names = [m["original_name"] for m in sidecars]
    rejected = {p.name for p in (ws_root / "rejected").iterdir() if not p.name.endswith(".错误说明.txt")}
    cli = [json.loads(line) for out in cli_out for line in out.splitlines() if line.startswith("{")]
    problems = []
    for path in dropped:
        places = archived_names.count(path.name) + (path.name in rejected)
        if places != 1:
            problems.append(f"{path.name}: in {places} places")
    numbers = sorted(m["number"] for m in sidecars)
    if len(set(numbers)) != len(numbers):
        problems.append("a number was issued twice")
    by_month: dict = {}
    for number in numbers:
        by_month.setdefault(number[:8], []).append(int(number[8:]))
    gaps = {month: sorted(set(range(1, max(seqs) + 1)) - set(seqs)) for month, seqs in by_month.items()}
    if any(gaps.values()):
        problems.append(f"gaps in numbering: {gaps}")
    journal = Workspace.open(ws_root).journal.db
    journaled = {row[0] for row in journal.execute("SELECT path FROM files WHERE status = 'archived'")}
    on_disk = {p.relative_to(ws_root).as_posix() for p in (ws_root / "archive").glob("*/*/*/*.xlsx")}
    if journaled != on_disk:
        problems.append(f"journal and archive differ: {len(journaled ^ on_disk)} files")
    if list((ws_root / "inbox").iterdir()):
        problems.append("files left in the inbox")
    live = _ledger_rows(ws_root)
    shutil.rmtree(ws_root / ".tousu")
    shutil.rmtree(ws_root / "ledger")
    subprocess.run([TOUSU, "ledger", "rebuild", "-w", str(ws_root), "--json"], env=ENV, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if _ledger_rows(ws_root) != live:
        problems.append("ledger rebuild differs from the live ledger")
    return {"inputs": len(dropped) + len(cli), "dropped": len(dropped), "cli": len(cli),
            "accepted": len(sidecars), "rejected": len(rejected) + sum(1 for r in cli if r["status"] == "refused"),
            "resent_copies": len(list((ws_root / "archive").rglob("重复提交/*"))), "watcher_kills": kills,
            "numbers": len(numbers), "problems": problems}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="tousu crash/concurrency torture run")
    parser.add_argument("--drops", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        counts = run(Path(temp), args.drops, args.kills)
    for key, value in counts.items():
        print(f"{key:>14}: {value}")
    sys.exit(1 if counts["problems"] else 0)


if __name__ == "__main__":
    main()
