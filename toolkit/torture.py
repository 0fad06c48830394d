"""python -m toolkit.torture [--drops 1000] [--kills 8]: an operator's bad day, scripted. The watcher and
three `tousu process` runs work on one workspace while the watcher is killed -9 at random moments (in
the middle of whatever it does: reading, numbering, the ledger, a receipt) and restarted; midway a
`ledger rebuild` runs beside the watcher and, later, the journal is deleted while the watcher is down.
Among the drops: garbage, a file re-saved under its name right after it was dropped, two different
forms dropped one after the other under one name, and a symbolic link.

Checked at the end by the run itself: every input is in exactly one place, every number is distinct and
below the archive's counters (never reissued), every inbox submission has its receipt, the journal
agrees with the archive, `ledger rebuild` reproduces the live ledger, and `tousu verify` is clean."""
import argparse
import hashlib
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

from .bench import make_forms

TOUSU = str(Path(sys.executable).parent / "tousu")
ENV = {**os.environ, "TOUSU_NOW": "2026-12-31T12:00:00"}
QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def _watch(root: Path) -> subprocess.Popen:
    return subprocess.Popen([TOUSU, "watch", "-w", str(root), "--settle", "0.2"], env=ENV, **QUIET)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ledger_rows(root: Path) -> dict:
    rows = {}
    for path in sorted((root / "ledger").glob("投诉管理台帐-*.xlsx")):
        book = openpyxl.load_workbook(path)
        rows[path.name] = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets}
    return rows


def _inputs(root: Path, drops: int, rng: random.Random) -> tuple[list, list]:
    forms = make_forms(root / "forms", drops + 3)
    garbage = []
    for i in range(max(1, drops // 50)):
        bad = root / "forms" / f"损坏-{i}.xlsx"
        bad.write_bytes(os.urandom(2000))
        garbage.append(bad)
    inputs = forms[:drops] + garbage
    rng.shuffle(inputs)
    return inputs, forms[drops:]


def run(root: Path, drops: int, kills: int, cli_runs: int = 3, seed: int = 7) -> dict:
    rng = random.Random(seed)
    inputs, spare = _inputs(root, drops, rng)
    cli_share = inputs[: len(inputs) * 3 // 10]
    dropped = inputs[len(cli_share):]
    ws = root / "ws"
    (ws / "inbox").mkdir(parents=True)
    outside = spare[0]
    os.symlink(outside, ws / "inbox" / "链接-指向外部.xlsx")
    watcher = _watch(ws)
    events = {"rebuilds": 0, "journal_deleted": 0, "kills": 0}
    final = {path.name: _sha(path) for path in dropped}

    def drop_all():
        for index, path in enumerate(dropped):
            target = ws / "inbox" / path.name
            os.replace(path, target)
            if index == len(dropped) // 4:             # re-saved under its name right after the drop
                resaved = spare[1].read_bytes()
                target.with_name(target.name + ".tmp").write_bytes(resaved)
                os.replace(target.with_name(target.name + ".tmp"), target)
                final[path.name + "#resaved"] = hashlib.sha256(resaved).hexdigest()
            if index == len(dropped) // 2:             # a second, different form under the same name
                while target.exists():
                    time.sleep(0.05)
                shutil.copyfile(spare[2], target)
                final[path.name + "#second"] = _sha(spare[2])
            time.sleep(rng.uniform(0, 0.01))
    dropper = threading.Thread(target=drop_all)
    dropper.start()
    batches = [cli_share[k::cli_runs] for k in range(cli_runs)]
    clis = [subprocess.Popen([TOUSU, "process", "-w", str(ws), "--json", *map(str, batch)], env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for batch in batches]
    for k in range(kills):
        time.sleep(rng.uniform(0.3, 1.5))
        if k == kills // 3:                           # a rebuild beside the running watcher
            subprocess.run([TOUSU, "ledger", "rebuild", "-w", str(ws)], env=ENV, timeout=600, **QUIET)
            events["rebuilds"] += 1
        watcher.send_signal(signal.SIGKILL)
        watcher.wait()
        events["kills"] += 1
        if k == 2 * kills // 3:                       # the journal lost while the watcher is down
            for lost in (ws / ".tousu").glob("journal.sqlite3*"):
                lost.unlink()
            events["journal_deleted"] += 1
        watcher = _watch(ws)
    dropper.join()
    cli_out = [cli.communicate()[0] for cli in clis]
    watcher.send_signal(signal.SIGTERM)
    watcher.wait(timeout=120)
    subprocess.run([TOUSU, "watch", "-w", str(ws), "--once", "--settle", "0.2"], env=ENV, timeout=600, **QUIET)
    return {**check(ws, final, cli_out, cli_share), **events}


def _places(ws: Path) -> dict:
    """sha256 -> how many places hold that content: archived forms (as received), rejected/, 重复提交/."""
    count: dict = {}
    for sidecar in (ws / "archive").glob("[0-9]*/*/*/*.meta.json"):
        sha = json.loads(sidecar.read_text(encoding="utf-8"))["sha256"]
        count[sha] = count.get(sha, 0) + 1
    for path in [*(ws / "rejected").iterdir(), *(ws / "archive").rglob("重复提交/*")]:
        if path.is_file() and not path.name.endswith(".错误说明.txt"):
            count[_sha(path)] = count.get(_sha(path), 0) + 1
    return count


def check(ws: Path, final: dict, cli_out: list, cli_share: list) -> dict:
    problems = []
    places = _places(ws)
    for name, sha in final.items():
        if name.endswith("#resaved"):
            continue                                   # checked with its first version below
        held, resaved = places.get(sha, 0), final.get(name + "#resaved")
        if resaved is not None:     # the first version is filed, or was replaced before it was taken
            if places.get(resaved, 0) != 1 or held > 1:
                problems.append(f"{name}: first version in {held} places, re-saved in {places.get(resaved, 0)}")
        elif held != 1:
            problems.append(f"{name}: in {held} places")
    cli = [json.loads(line) for out in cli_out for line in out.splitlines() if line.startswith("{")]
    if len(cli) != len(cli_share):
        problems.append(f"CLI answered {len(cli)} of {len(cli_share)} files")
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in (ws / "archive").glob("[0-9]*/*/*/*.meta.json")]
    numbers = sorted(m["number"] for m in sidecars if m["form"] == "intake")
    if len(set(numbers)) != len(numbers):
        problems.append("a number was issued twice")
    counters = json.loads((ws / "archive" / ".counters.json").read_text())["sequences"]
    if any(int(n[8:]) > counters.get(f"{n[:8]}*", 0) for n in numbers):
        problems.append("a number above the archive's counters")
    if [p.name for p in (ws / "inbox").iterdir()] != ["链接-指向外部.xlsx"]:
        problems.append(f"inbox not as expected: {sorted(p.name for p in (ws / 'inbox').iterdir())}")
    if list((ws / ".tousu-claims").glob("*/*")):
        problems.append("claims left unfinished")
    verify = subprocess.run([TOUSU, "verify", "-w", str(ws), "--json"], env=ENV, capture_output=True, text=True,
                            timeout=600)
    findings = json.loads(verify.stdout)["findings"] if verify.stdout.startswith("{") else [verify.stderr]
    problems += [f"verify: {f}" for f in findings]
    live = _ledger_rows(ws)
    shutil.rmtree(ws / ".tousu")
    shutil.rmtree(ws / "ledger")
    subprocess.run([TOUSU, "ledger", "rebuild", "-w", str(ws), "--json"], env=ENV, timeout=600, **QUIET)
    if _ledger_rows(ws) != live:
        problems.append("ledger rebuild differs from the live ledger")
    gaps = {}
    for number in numbers:
        gaps.setdefault(number[:8], []).append(int(number[8:]))
    missing = sum(max(seqs) - len(seqs) for seqs in gaps.values())
    return {"inputs": len(final) - sum(k.endswith("#resaved") for k in final) + len(cli_share),
            "dropped": len(final), "cli": len(cli), "accepted": len(sidecars),
            "refused": sum(1 for p in (ws / "rejected").iterdir() if not p.name.endswith(".txt"))
            + sum(1 for r in cli if r["status"] == "refused"),
            "duplicates": len(list((ws / "archive").rglob("重复提交/*"))), "numbers": len(numbers),
            "numbers_skipped_by_crashes": missing, "receipts": len(list((ws / "receipts").glob("*.回执.json"))),
            "problems": problems}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="tousu crash/concurrency torture run")
    parser.add_argument("--drops", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        counts = run(Path(temp), args.drops, args.kills)
    for key, value in counts.items():
        print(f"{key:>26}: {value}")
    sys.exit(1 if counts["problems"] else 0)


if __name__ == "__main__":
    main()
