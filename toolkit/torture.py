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


# ---------------------------------------------------------------- a group of offices on one journal server
GROUP_OFFICES = ("SM", "LY", "NP")
GROUP_PATTERN = "TS{office}{YYYY}{MM}{seq:04d}"


def _office(root: Path, code: str, url: str) -> Path:
    ws = root / code
    (ws / "inbox").mkdir(parents=True)
    (ws / "policy.toml").write_text(f'[numbering]\npattern = "{GROUP_PATTERN}"\n\n[journal]\nurl = "{url}"\n\n'
                                    f'[office]\ncode = "{code}"\n', encoding="utf-8")
    return ws


def _office_watch(ws: Path) -> subprocess.Popen:
    """A watcher whose messages go to <office>.stderr beside the workspace (a watcher must never stop by itself)."""
    with open(ws.with_suffix(".stderr"), "ab") as log:
        return subprocess.Popen([TOUSU, "watch", "-w", str(ws), "--settle", "0.2"], env=ENV,
                                stdout=subprocess.DEVNULL, stderr=log)


def _starts(ws: Path) -> int:
    log = ws / ".tousu" / "watch.log"
    return log.read_text(encoding="utf-8", errors="replace").count("开始监视") if log.exists() else 0


def _await_start(ws: Path, starts: int) -> None:
    """Until the watcher has started `starts` times: a watcher does not yet wait out a server that is down
    while it starts (see the report of issue 15), so the chaos begins once it runs."""
    deadline = time.monotonic() + 120
    while _starts(ws) < starts and time.monotonic() < deadline:
        time.sleep(0.1)


def _tousu_json(*args) -> list:
    done = subprocess.run([TOUSU, *map(str, args), "--json"], env=ENV, capture_output=True, text=True, timeout=600)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _settled(offices: dict) -> bool:
    return all(not any((ws / "inbox").iterdir()) and not list((ws / ".tousu-claims").glob("*/*"))
               for ws in offices.values())


def run_group(root: Path, drops: int = 600, kills: int = 2, seed: int = 11) -> dict:
    """Three offices on one PostgreSQL journal: a watcher and a `tousu process` run each, `drops` forms
    in all (3 in 10 through the CLI), the first office's watcher killed -9 `kills` times and the server
    restarted once while the watchers work. Checked per office: every input in exactly one place, the
    numbers distinct and within the archive's counters, gaps only where a crash took a number (counted),
    `tousu verify` clean; and the group report equals the sum of the offices' reports."""
    from .journal_pgserver import ScratchServer
    rng = random.Random(seed)
    server = ScratchServer().start()
    try:
        url = server.create_database("tousu")
        offices = {code: _office(root, code, url) for code in GROUP_OFFICES}
        share = drops // len(offices)
        inputs = {code: make_forms(root / "forms" / code, share, first=k * share) for k, code in enumerate(offices)}
        cli_share = {code: forms[: share * 3 // 10] for code, forms in inputs.items()}
        dropped = [(code, path) for code, forms in inputs.items() for path in forms[len(cli_share[code]):]]
        rng.shuffle(dropped)
        final = {code: {p.name: _sha(p) for p in forms} for code, forms in inputs.items()}
        watchers = {code: _office_watch(ws) for code, ws in offices.items()}
        for ws in offices.values():
            _await_start(ws, 1)
        clis = [subprocess.Popen([TOUSU, "process", "-w", str(offices[code]), "--json", *map(str, forms)], env=ENV,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                for code, forms in cli_share.items()]
        def drop_all():
            for code, path in dropped:
                os.replace(path, offices[code] / "inbox" / path.name)
                time.sleep(rng.uniform(0, 0.02))
        dropper = threading.Thread(target=drop_all)
        dropper.start()
        events = {"kills": 0, "server_restarts": 0, "cli_reruns": 0}
        victim = GROUP_OFFICES[0]
        for k in range(kills):
            time.sleep(rng.uniform(1.0, 3.0))
            watchers[victim].send_signal(signal.SIGKILL)
            watchers[victim].wait()
            events["kills"] += 1
            if k == 0:                                  # the server restarted while everyone works
                server.stop()
                time.sleep(1.0)
                server.start()
                events["server_restarts"] += 1
            watchers[victim] = _office_watch(offices[victim])
            _await_start(offices[victim], k + 2)
        dropper.join()
        cli_out = [cli.communicate(timeout=600)[0] for cli in clis]
        deadline = time.monotonic() + 900
        while not _settled(offices) and time.monotonic() < deadline:
            time.sleep(0.5)
        stopped = [code for code, watcher in watchers.items() if watcher.poll() is not None]
        for watcher in watchers.values():
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(timeout=120)
        for code, ws in offices.items():
            subprocess.run([TOUSU, "watch", "-w", str(ws), "--once", "--settle", "0.2"], env=ENV, timeout=600,
                           **QUIET)
            held = _places(ws)                          # a CLI run the restart stopped: the clerk runs it again
            again = [p for p in cli_share[code] if held.get(final[code][p.name], 0) == 0]
            if again:
                events["cli_reruns"] += 1
                cli_out.append("\n".join(json.dumps(r) for r in _tousu_json("process", "-w", ws, *again)))
        counts = check_group(offices, final, cli_out, cli_share)
        if counts["numbers_skipped_by_crashes"] > kills + 1:     # only a crash between the counters and COMMIT
            counts["problems"].append(f"{counts['numbers_skipped_by_crashes']} numbers skipped by "
                                      f"{kills} kills and one restart")
        counts["problems"] += [f"{code}: the watcher stopped by itself: "
                               f"{offices[code].with_suffix('.stderr').read_text(errors='replace')[-300:]}"
                               for code in stopped]
        return {**counts, **events}
    finally:
        server.destroy()


def _office_problems(code: str, ws: Path, final: dict) -> tuple[list, list]:
    problems = [f"{code} {name}: in {places} places" for name, sha in final.items()
                if (places := _places(ws).get(sha, 0)) != 1]
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in (ws / "archive").glob("[0-9]*/*/*/*.meta.json")]
    numbers = sorted(m["number"] for m in sidecars if m["form"] == "intake")
    if len(set(numbers)) != len(numbers):
        problems.append(f"{code}: a number was issued twice")
    prefix = f"TS{code}"
    if any(not n.startswith(prefix) for n in numbers):
        problems.append(f"{code}: a number without the office's code")
    counters = json.loads((ws / "archive" / ".counters.json").read_text())["sequences"]
    if any(int(n[len(prefix) + 6:]) > counters.get(f"{n[:len(prefix) + 6]}*", 0) for n in numbers):
        problems.append(f"{code}: a number above the archive's counters")
    if list((ws / "inbox").iterdir()) or list((ws / ".tousu-claims").glob("*/*")):
        problems.append(f"{code}: inbox or claims not empty")
    findings = (_tousu_json("verify", "-w", ws) or [{"findings": ["verify gave no answer"]}])[0]["findings"]
    problems += [f"{code} verify: {f}" for f in findings]
    return problems, numbers


def check_group(offices: dict, final: dict, cli_out: list, cli_share: dict) -> dict:
    problems, gaps, numbers = [], 0, {}
    cli = [json.loads(line) for out in cli_out for line in out.splitlines() if line.startswith("{")]
    for code, ws in offices.items():
        found, numbers[code] = _office_problems(code, ws, final[code])
        problems += found
        periods: dict = {}
        for number in numbers[code]:
            periods.setdefault(number[:-4], []).append(int(number[-4:]))
        gaps += sum(max(seqs) - len(seqs) for seqs in periods.values())
    months = sorted({f"{n[-10:-6]}-{n[-6:-4]}" for ns in numbers.values() for n in ns})
    first = next(iter(offices.values()))
    for month in months:
        single = [_tousu_json("report", "--month", month, "-w", ws)[0] for ws in offices.values()]
        group = _tousu_json("report", "--month", month, "--group", "-w", first)[0]
        if group["total"]["cases"] != sum(s["cases"] for s in single) or any(
                group["total"]["rates"][name]["numerator"] != sum(s["rates"][name]["numerator"] for s in single)
                for name in group["total"]["rates"]):
            problems.append(f"group report of {month} is not the sum of the offices' reports")
    return {"offices": len(offices), "inputs": sum(map(len, final.values())), "cli": len(cli),
            "numbers": {code: len(ns) for code, ns in numbers.items()}, "numbers_skipped_by_crashes": gaps,
            "months": months, "problems": problems}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="tousu crash/concurrency torture run")
    parser.add_argument("--drops", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--group", action="store_true", help="three offices on one PostgreSQL journal")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        torture = run_group if args.group else run
        counts = torture(Path(temp), args.drops, args.kills)
    for key, value in counts.items():
        print(f"{key:>26}: {value}")
    sys.exit(1 if counts["problems"] else 0)


if __name__ == "__main__":
    main()
