"""What the archive keeps about every submission, so a rebuild can regenerate the journal from it alone:
`Provenance` beside each archived form (its sidecar) and `Refusal` for a form that was not accepted.
Both carry the submission id (one per file handed in, never reused) and the archive-wide arrival
`order`, a counter kept in the archive itself, so replay order survives any number of rebuilds."""
import json
from dataclasses import dataclass, field
from datetime import datetime

from .errors import os_reason
from .problems import Problem

SCHEMA = 2


class BadRecord(ValueError):
    """A sidecar or refusal record that cannot be read; the message is Chinese."""


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _problems(items) -> list:
    return [Problem(**item) for item in items or []]


@dataclass(frozen=True)
class Provenance:
    original_name: str
    sha256: str                      # of the bytes as received (duplicate detection)
    arrived_at: datetime
    form: str                        # the kind's key
    version: int
    number: str
    submitted_by: str
    submission: str                  # the submission id (the watcher's claim id, or one per CLI file)
    order: int                       # archive-wide arrival order
    fields: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    archived_sha256: str = ""        # of the archived copy (number written in); "" when unknown

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "original_name": self.original_name, "sha256": self.sha256,
                "archived_sha256": self.archived_sha256, "arrived_at": _iso(self.arrived_at),
                "form": self.form, "version": self.version, "number": self.number,
                "submitted_by": self.submitted_by, "submission": self.submission, "order": self.order,
                "fields": self.fields, "problems": [p.to_json() for p in self.problems]}

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, data: dict) -> "Provenance":
        """Reads schema 1 (no submission id; `order` was a journal row id) and schema 2."""
        try:
            schema = data.get("schema", 1)
            if schema > SCHEMA:
                raise BadRecord(f"记录格式版本 {schema} 比本程序新，请升级 tousu")
            return cls(str(data["original_name"]), str(data["sha256"]), datetime.fromisoformat(data["arrived_at"]),
                       str(data["form"]), int(data["version"]), str(data["number"]), str(data["submitted_by"]),
                       str(data.get("submission") or f"v1-{data['sha256'][:12]}-{data.get('order', 0)}"),
                       int(data.get("order") or 0), dict(data.get("fields") or {}), _problems(data.get("problems")),
                       str(data.get("archived_sha256") or ""))
        except BadRecord:
            raise
        except KeyError as exc:
            raise BadRecord(f"记录缺少「{exc.args[0]}」项") from None
        except (TypeError, ValueError, AttributeError):
            raise BadRecord("记录中有取值格式不对（日期、版本号或顺序号）") from None


@dataclass(frozen=True)
class Refusal:
    original_name: str
    sha256: str
    arrived_at: datetime
    form: str | None
    submitted_by: str
    submission: str
    order: int
    problems: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "original_name": self.original_name, "sha256": self.sha256,
                "arrived_at": _iso(self.arrived_at), "form": self.form, "submitted_by": self.submitted_by,
                "submission": self.submission, "order": self.order,
                "problems": [p.to_json() for p in self.problems]}

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, data: dict) -> "Refusal":
        try:
            return cls(str(data["original_name"]), str(data["sha256"]), datetime.fromisoformat(data["arrived_at"]),
                       data.get("form"), str(data["submitted_by"]), str(data["submission"]), int(data["order"]),
                       _problems(data.get("problems")))
        except KeyError as exc:
            raise BadRecord(f"拒收记录缺少「{exc.args[0]}」项") from None
        except (TypeError, ValueError, AttributeError):
            raise BadRecord("拒收记录中有取值格式不对") from None


def load(path, kind):
    """Read a Provenance or Refusal file; BadRecord (Chinese) when it cannot be read."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise BadRecord(f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）") from None
    except UnicodeDecodeError:
        raise BadRecord("不是 UTF-8 编码的文本") from None
    except OSError as exc:
        raise BadRecord(f"无法读取：{os_reason(exc)}") from None
    if not isinstance(data, dict):
        raise BadRecord("内容不是记录对象")
    return kind.from_json(data)
