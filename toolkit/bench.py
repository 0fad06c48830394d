"""python -m toolkit.bench [--forms N] [--small N] [--large N]: the figures of SPEC §16, printed as a
table. Every input is generated here; nothing outside a temporary folder is touched.
`python -m toolkit.bench --hostile`: the hostile corpus of SPEC §15 / issue 11 (toolkit/hostile.py)
through `tousu check`, one line per file: size, outcome, seconds, peak RSS.

- per-form processing (number written into the archived copy, ledger included once per batch) against
  the unavoidable floor: openpyxl load + save of the same files, each the best of --rounds runs;
- printed as one Markdown table (what, how many, seconds, per form or p95, peak MiB, target), the same
  rows in every run, for a before/after note;
- watcher drop -> archived latency, p50 / p95, with the default settle interval;
- `ledger rebuild` for a small and a large archive, wall time and peak RSS, and the growth factor;
- with `--year-cases 10000,50000`: a year already holding that many cases (synthetic archive + ledger
  rebuild), then a steady stream of drops into the watcher, drop -> archived and drop -> in the ledger
  (the case number readable in the ledger workbook) p50 / p95, and `tousu process` of one form into it."""
import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import tempfile
import threading
import time
import zipfile
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl

from .archive import archived_name, sidecar_of
from .batch import process_batch, rebuild_all
from .clock import Clock
from .forms.build import build
from .forms.kinds import INTAKE
from .hostile import measure, write_corpus
from .inbox import find_receipt
from .intake import plain
from .watcher import Watcher
from .workspace import Workspace

RECEIPT_TIMEOUT = 60.0
CLOCK = Clock(datetime(2026, 12, 31, 12, 0))
CHANNELS = ("客服热线", "营业厅", "微信公众号", "XX能源服务质量监督热线批转", "投诉专线")
UNITS = ("业务发展群", "管网运营赋能群", "客户创值赋能群", "建设交付赋能群")


def intake_values(i: int) -> dict:
    received = datetime(2026, 1, 1, 8) + timedelta(minutes=53 * i % (360 * 24 * 60))
    return dict(customer_name=f"客户{i}", address=f"三明市梅列区列东街{i % 300}号", phone=f"13{i:09d}",
                target=f"对象{i % 700}", received_at=received, channel=CHANNELS[i % len(CHANNELS)],
                receiver="林晓燕", severity="重大" if i % 17 == 0 else "非重大", unit=UNITS[i % len(UNITS)],
                content=f"第{i}号投诉：燃气费异常，抄表员未入户。", demand="核实并退费。")


def make_forms(folder: Path, count: int, first: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [build(INTAKE, intake_values(i), folder / f"受理-{i:05d}.xlsx") for i in range(first, first + count)]


def floor_seconds(forms: list[Path], out: Path) -> float:
    out.mkdir(exist_ok=True)
    started = time.perf_counter()
    for path in forms:
        openpyxl.load_workbook(path).save(out / path.name)
    return time.perf_counter() - started


def processing_seconds(forms: list[Path], root: Path) -> float:
    ws = Workspace.open(root)
    started = time.perf_counter()
    receipts, _ = process_batch(ws, forms, CLOCK, "bench")
    elapsed = time.perf_counter() - started
    assert all(r.status == "accepted" for r in receipts), [r.problems for r in receipts if r.status != "accepted"]
    return elapsed


def _watch(root: str, stop) -> None:
    watcher = Watcher(Workspace.open(Path(root)), CLOCK)          # default settle interval from the policy
    threading.Thread(target=lambda: (stop.wait(), watcher.stop()), daemon=True).start()
    watcher.run()


def _wait_for_receipt(ws, name: str, since: float) -> None:
    while find_receipt(ws.receipts, name) is None:
        if time.perf_counter() - since > RECEIPT_TIMEOUT:
            raise SystemExit(f"no receipt for {name} after {RECEIPT_TIMEOUT} s: the watcher is stuck")
        time.sleep(0.01)


@contextmanager
def watching(root: Path, warm_up: Path):
    """The watcher in a process of its own, as `tousu watch` runs (the loop measuring it here does not
    share its interpreter), yielding once it has filed `warm_up` (so its start is not measured)."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    child = context.Process(target=_watch, args=(str(root), stop))
    child.start()
    try:
        ws = Workspace.open(root)
        shutil.copyfile(warm_up, ws.inbox / warm_up.name)
        _wait_for_receipt(ws, warm_up.name, time.perf_counter())
        yield ws
    finally:
        stop.set()
        child.join(timeout=60)


def watcher_latencies(forms: list[Path], root: Path, gap: float = 0.3) -> list[float]:
    """Drop -> receipt seconds for each of forms[1:], one at a time (forms[0] warms the watcher up)."""
    latencies = []
    with watching(root, forms[0]) as ws:
        for form in forms[1:]:
            shutil.copyfile(form, ws.inbox / form.name)
            dropped = time.perf_counter()
            _wait_for_receipt(ws, form.name, dropped)
            latencies.append(time.perf_counter() - dropped)
            time.sleep(gap)
    return latencies


def _in_ledger(ledger: Path, number: str) -> bool:
    """Whether the case number is written in the ledger workbook (any part: inline or shared strings)."""
    try:
        with zipfile.ZipFile(ledger) as package:
            return any(number.encode() in package.read(name) for name in package.namelist()
                       if name.startswith(("xl/worksheets/", "xl/sharedStrings")))
    except (OSError, zipfile.BadZipFile, KeyError):
        return False


def _written_at(path: Path) -> float:
    """When the file was last written, on the perf_counter clock: a loop busy reading a large ledger
    notices a receipt late, but its mtime says when the watcher wrote it."""
    return time.perf_counter() - max(0.0, time.time() - path.stat().st_mtime)


def stream_latencies(forms: list[Path], root: Path, gap: float) -> tuple[list[float], list[float]]:
    """Drops every `gap` seconds whatever the watcher is doing; (drop -> archived, drop -> in the ledger)
    seconds per form. A form is archived when its receipt is written, in the ledger when its number is
    first readable in the year's workbook (both by the file's mtime)."""
    forms, warm_up = forms[1:], forms[0]
    dropped, archived, visible, numbers, checked = {}, {}, {}, {}, {}
    with watching(root, warm_up) as ws:
        started = time.perf_counter()
        while len(visible) < len(forms):
            now = time.perf_counter()
            if len(dropped) < len(forms) and now >= started + gap * len(dropped):
                form = forms[len(dropped)]
                shutil.copyfile(form, ws.inbox / form.name)
                dropped[form.name] = now
            for name in set(dropped) - set(archived):
                receipt = find_receipt(ws.receipts, name)
                if receipt is not None:
                    archived[name] = _written_at(receipt)
                    numbers[name] = json.loads(receipt.read_text(encoding="utf-8"))["number"]
            for name in set(numbers) - set(visible):
                ledger = ws.ledger / f"投诉管理台帐-{numbers[name][2:6]}.xlsx"
                stat = ledger.stat() if ledger.exists() else None
                mark = stat and (stat.st_mtime_ns, stat.st_size)
                if mark and mark != checked.get(name):
                    checked[name] = mark
                    if _in_ledger(ledger, numbers[name]):
                        visible[name] = _written_at(ledger)
            if now - started > gap * len(forms) + RECEIPT_TIMEOUT * 10:
                raise SystemExit("the watcher is stuck: not every dropped form reached the ledger")
            time.sleep(0.02)
    return ([archived[n] - dropped[n] for n in dropped], [visible[n] - dropped[n] for n in dropped])


def year_figures(root: Path, cases: int, drops: int, gap: float) -> list[tuple]:
    """Rows for a year already holding `cases` cases: the stream of drops, then one `tousu process`."""
    synthetic_archive(root, cases)
    started = time.perf_counter()
    rebuild_all(Workspace.open(root), CLOCK)
    setup = time.perf_counter() - started
    forms = make_forms(root.parent / f"stream-{cases}", drops + 2, first=cases)      # warm-up, drops, one
    archived, visible = stream_latencies(forms[:-1], root, gap)
    started = time.perf_counter()
    receipts, _ = process_batch(Workspace.open(root), forms[-1:], CLOCK, "bench")
    one = time.perf_counter() - started
    assert receipts[0].status == "accepted", receipts[0].problems
    label = f"{drops} drops every {gap} s, {cases} in the year"
    return [("watcher drop -> archived", label, f"p50 {percentile(archived, 50):.2f}",
             f"p95 {percentile(archived, 95):.2f}", "", "p95 < 1.5 s"),
            ("watcher drop -> in the ledger", label, f"p50 {percentile(visible, 50):.2f}",
             f"p95 {percentile(visible, 95):.2f}", "", "p95 < 2 s"),
            ("tousu process of one form", f"1 form, {cases} in the year", f"{one:.2f}", "", "", "< 1 s"),
            ("ledger rebuild (set-up, warm)", f"{cases} cases", f"{setup:.1f}", "", "", "")]


def percentile(values: list[float], p: int) -> float:
    return sorted(values)[max(0, round(p / 100 * len(values)) - 1)]


def synthetic_archive(root: Path, cases: int) -> None:
    """An archive of `cases` intakes as the toolkit files them: form copy + provenance sidecar."""
    ws = Workspace.open(root)
    template = build(INTAKE, intake_values(0), root / "template.xlsx").read_bytes()
    per_month: dict = {}
    for i in range(cases):
        values = intake_values(i)
        received = values["received_at"]
        seq = per_month[received.month] = per_month.get(received.month, 0) + 1
        number = f"TS{received:%Y%m}{seq:04d}"
        folder = ws.case_folder(number, received.year, received.month)
        folder.mkdir(parents=True, exist_ok=True)
        form = folder / archived_name(number, INTAKE.name, 1, ".xlsx")
        form.write_bytes(template)
        facts = {k: plain(values.get(k)) for k in (f.key for f in INTAKE.fields)}
        facts.update(channel_class=ws.policy.channel_class(values["channel"])[0], number=None)
        sidecar_of(form).write_text(json.dumps({
            "original_name": f"受理-{i}.xlsx", "sha256": f"{i:064x}", "arrived_at": received.isoformat(),
            "form": "intake", "version": 1, "number": number, "submitted_by": "bench", "order": i + 1,
            "fields": facts, "problems": []}, ensure_ascii=False), encoding="utf-8")


def _rebuild_child(root: str, queue) -> None:
    started = time.perf_counter()
    result, _ = rebuild_all(Workspace.open(Path(root)), CLOCK)
    queue.put((result.cases, time.perf_counter() - started, peak_mib()))


def rebuild_figures(root: Path, cases: int, cold: bool = False) -> tuple[int, float, float]:
    """(cases rebuilt, seconds, peak RSS MiB) measured in a fresh process; with `cold`, the archive is
    first rebuilt once (as a live workspace would have it) and then the page cache dropped."""
    if not root.exists():
        synthetic_archive(root, cases)
    if cold and not drop_page_cache():
        raise SystemExit("--cold needs root (echo 3 > /proc/sys/vm/drop_caches)")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_rebuild_child, args=(str(root), queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def drop_page_cache() -> bool:
    """Write dirty pages out and drop the page cache, dentries and inodes (Linux, as root)."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def hostile_rows(folder: Path) -> list[tuple]:
    """(name, size, outcome, seconds, peak RSS) for every file of the hostile corpus."""
    rows = [("file", "size", "outcome", "seconds", "peak RSS", "message")]
    for path in write_corpus(folder):
        outcome = measure(path)
        verdict = ("refused" if outcome.refused else "TIME LIMIT" if outcome.exit_code is None
                   else f"NOT REFUSED (exit {outcome.exit_code})")
        rows.append((outcome.name, f"{outcome.size / 2**20:,.2f} MiB", verdict, f"{outcome.seconds:.2f} s",
                     f"{outcome.peak_mib:.0f} MiB", outcome.message))
    return rows


HEADER = ("what", "how many", "seconds", "per form / p95 s", "peak MiB", "target")


def print_table(rows: list) -> None:
    """A Markdown table: one figure per cell, the same rows in every run, so two runs paste side by side
    into a before/after note (the hostile corpus uses its own header)."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("| " + " | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)) + " |")
        if number == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="tousu benchmark (SPEC §16)")
    parser.add_argument("--hostile", action="store_true",
                        help="only the hostile corpus: each file through `tousu check`, time and peak RSS")
    parser.add_argument("--forms", type=int, default=300, help="forms for the per-form figure")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the per-form figures are the best of this many runs (a shared machine is noisy)")
    parser.add_argument("--drops", type=int, default=30, help="drops for the watcher latency")
    parser.add_argument("--small", type=int, default=1000, help="cases of the small rebuild")
    parser.add_argument("--large", type=int, default=10000, help="cases of the large rebuild")
    parser.add_argument("--year-cases", default="", help="comma-separated sizes of a year already holding cases "
                                                        "(e.g. 10000,50000): stream of drops and one process")
    parser.add_argument("--cold", action="store_true",
                        help="also the large rebuild again with the page cache dropped (Linux, root)")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between two drops of the stream")
    parser.add_argument("--only-year", action="store_true", help="only the --year-cases figures")
    parser.add_argument("--web", action="store_true",
                        help="only the web view: p95 per page (toolkit.bench_web; its options follow)")
    parser.add_argument("--group", action="store_true",
                        help="only the group journal on PostgreSQL (toolkit.bench_group; its options follow)")
    args, rest = parser.parse_known_args(argv)
    if args.web or args.group:
        from . import bench_group, bench_web
        (bench_web if args.web else bench_group).main(rest)
        return
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.hostile:
        with tempfile.TemporaryDirectory() as temp:
            print_table(hostile_rows(Path(temp)))
        return
    sizes = [int(n) for n in args.year_cases.split(",") if n.strip()]
    if args.only_year:
        with tempfile.TemporaryDirectory() as temp:
            print_table([HEADER, *(row for n in sizes
                                   for row in year_figures(Path(temp) / f"ws-year-{n}", n, args.drops, args.gap))])
        return
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        forms = make_forms(temp / "forms", args.forms)          # first: the process is as fresh as a CLI run's
        floor = min(floor_seconds(forms, temp / f"floor-{n}") for n in range(args.rounds))
        ours = min(processing_seconds(forms, temp / f"ws-process-{n}") for n in range(args.rounds))
        ours_peak = peak_mib()
        years = [row for n in sizes for row in year_figures(temp / f"ws-year-{n}", n, args.drops, args.gap)]
        latencies = watcher_latencies(make_forms(temp / "drops", args.drops + 1), temp / "ws-watch")
        small = rebuild_figures(temp / "ws-small", args.small)
        large = rebuild_figures(temp / "ws-large", args.large)
        cold = rebuild_figures(temp / "ws-large", args.large, cold=True) if args.cold else None
    p50 = statistics.median(latencies)
    p95 = percentile(latencies, 95)
    rows = [
        ("floor: openpyxl load + save", f"{args.forms} forms", f"{floor:.2f}", f"{1000 * floor / args.forms:.1f} ms",
         "", ""),
        ("tousu process (batch, ledger once)", f"{args.forms} forms", f"{ours:.2f}",
         f"{1000 * ours / args.forms:.1f} ms", f"{ours_peak:.0f}", f"{ours / floor:.2f}x floor (<= 0.75x)"),
        ("watcher drop -> archived", f"{args.drops} drops, empty year", f"p50 {p50:.2f}", f"p95 {p95:.2f}", "",
         "p95 < 1.5 s"),
        ("ledger rebuild", f"{small[0]} cases", f"{small[1]:.2f}", "", f"{small[2]:.0f}", ""),
        ("ledger rebuild", f"{large[0]} cases", f"{large[1]:.2f}", "", f"{large[2]:.0f}",
         f"growth {large[1] / small[1]:.1f}x for {large[0] / small[0]:.0f}x cases; < 500 MB"),
    ]
    if cold is not None:
        rows.append(("ledger rebuild, cold page cache", f"{cold[0]} cases", f"{cold[1]:.2f}", "",
                     f"{cold[2]:.0f}", "< 20 s at 50,000"))
    print_table([HEADER, *rows, *years])


def peak_mib() -> float:
    """This process's peak RSS: VmHWM, which a spawned child starts afresh (Linux keeps ru_maxrss across
    fork and exec, so a child would report its parent's peak when that was higher)."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
