"""python -m toolkit.bench_web [--cases 50000] [--requests 30]: p50/p95 per page of `tousu serve` over a
workspace of N cases (issue 14: every page < 200 ms p95 at 50,000 cases).

The workspace is the year toolkit.bench builds for `--year-cases` (synthetic_archive: intakes only, so
every case is still open and overdue at the bench's clock, 2026-12-31 12:00 — the heaviest 今日 there
is), rebuilt into a journal. The server is the real one (uvicorn, in a thread) asked over HTTP on
127.0.0.1. The first request after the journal changed computes what reads every case (find_overdue,
the case list, month_figures) and is reported on its own line; the percentiles are of the requests after
it, each page asked `--requests` times (the case pages each for another case)."""
import argparse
import http.client
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import uvicorn

from .batch import rebuild_all
from .bench import CLOCK, UNITS, intake_values, percentile, print_table, synthetic_archive
from .web.app import create_app
from .workspace import Workspace

TARGET_MS = 200


def pages(root: Path, cases: int, requests: int) -> dict[str, list[str]]:
    """{page: the URLs asked for it}; the case pages spread evenly over the archive's numbers."""
    archived = sorted(folder.name for folder in root.glob("archive/[0-9]*/*/*") if folder.is_dir())
    numbers = [archived[i * len(archived) // requests] for i in range(requests)]
    phone = intake_values(cases // 2)["phone"]
    return {"今日": ["/today"] * requests,
            "今日 第50页": ["/today?page=50"] * requests,
            "案件": ["/cases"] * requests,
            "案件 筛选": [f"/cases?month=2026-06&unit={quote(UNITS[1])}&status=%E5%BE%85%E8%B0%83%E6%9F%A5"] * requests,
            "案件 末页": ["/cases?page=1000"] * requests,
            "案件 查找电话": [f"/cases?q={phone}"] * requests,
            "案件详情": [f"/cases/{n}" for n in numbers],
            "月度": ["/month?month=2026-11"] * requests}


def serve(root: Path) -> tuple[uvicorn.Server, int]:
    app = create_app(root, CLOCK, server=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, port


def timed(port: int, url: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request("GET", url)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    assert response.status == 200, (url, response.status, body[:300])
    return elapsed


def measure(root: Path, cases: int, requests: int) -> list[tuple]:
    server, port = serve(root)
    try:
        first = {name: timed(port, url) for name, url in (("今日", "/today"), ("案件", "/cases"),
                                                          ("月度", "/month?month=2026-11"))}
        rows = [("page", "requests", "p50", "p95", "max", f"target p95 < {TARGET_MS} ms")]
        for name, urls in pages(root, cases, requests).items():
            seconds = [timed(port, url) for url in urls]
            p95 = percentile(seconds, 95) * 1000
            rows.append((name, len(seconds), f"{percentile(seconds, 50) * 1000:.0f} ms", f"{p95:.0f} ms",
                         f"{max(seconds) * 1000:.0f} ms", "ok" if p95 < TARGET_MS else "OVER"))
        rows += [(f"{name}: first request after a journal change", 1, f"{s * 1000:.0f} ms", "", "",
                  "reads every case (find_overdue / the list / month_figures)") for name, s in first.items()]
        return rows
    finally:
        server.should_exit = True


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="tousu serve: p95 per page (issue 14)")
    parser.add_argument("--cases", type=int, default=50000, help="cases in the workspace")
    parser.add_argument("--requests", type=int, default=30, help="requests per page")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="an existing workspace to measure instead of building one (left as it is)")
    args = parser.parse_args(argv)
    if args.workspace:
        print_table(measure(args.workspace, args.cases, args.requests))
        return
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "ws"
        started = time.perf_counter()
        synthetic_archive(root, args.cases)
        rebuild_all(Workspace.open(root), CLOCK)
        print(f"workspace of {args.cases} cases built in {time.perf_counter() - started:.0f} s")
        print_table(measure(root, args.cases, args.requests))


if __name__ == "__main__":
    main()
