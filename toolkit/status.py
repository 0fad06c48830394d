"""`tousu status`: what waits in the inbox, today's counts, the last problems."""
import json
from datetime import datetime

from .inbox import pending

ERROR_MARKERS = ("暂不处理", "无法访问", "正被其他程序")


def workspace_status(ws, now: datetime, recent: int = 5) -> dict:
    today = now.date().isoformat()
    counts = {row["status"]: row["n"] for row in ws.journal.db.execute(
        "SELECT status, count(*) AS n FROM files WHERE substr(arrived_at, 1, 10) = ? GROUP BY status", (today,))}
    refused = [{"file": row["original_name"], "at": row["arrived_at"],
                "problem": (json.loads(row["problems"]) or [{"message": ""}])[0]["message"]}
               for row in ws.journal.db.execute("SELECT original_name, arrived_at, problems FROM files "
                                                "WHERE status = 'refused' ORDER BY id DESC LIMIT ?", (recent,))]
    log = ws.state / "watch.log"
    errors = [line for line in log.read_text(encoding="utf-8").splitlines() if any(m in line for m in ERROR_MARKERS)] \
        if log.exists() else []
    return {"pending": [p.name for p in pending(ws)],
            "today": {"accepted": counts.get("archived", 0), "refused": counts.get("refused", 0)},
            "recent_refusals": refused, "recent_errors": errors[-recent:]}
