"""The policy: templates/policy.toml holds every default; a workspace's policy.toml overrides it
key by key. The merged TOML is parsed once into frozen dataclasses; a file that does not parse, an
unknown key or a value of the wrong kind is a PolicyError naming the file, the dotted key and (for a
syntax error) the line (the CLI exits 2).

The policy names its tiers (投诉性质: which labels mean each, which count as 重大) and its stages (name,
start, the form date that meets it, whether the unit owes it, recurrence); the 附件3 table gives a limit
per deadline class × tier × stage. A workspace file that declares its own [[tiers]] replaces the
default's stages, deadline classes and channels (they are keyed by the default tiers); one that names its
own [units] replaces the default's [unit_keywords]."""
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from .errors import PolicyError
from .numbering import check_office_code, office_pattern
from .paths import DEFAULT_POLICY, TEMPLATES

REQUIRED_DATE = "要求办结日期"
NOT_APPLICABLE = "不适用"                # a stage that has no deadline for a tier
SEVERITIES = ("重大", "非重大")          # the default policy's tiers (`tousu due --severity`)
# Stages whose behaviour lives in cases._Replay (met by the feedback, reopening, extension, the promise
# and its second callback, the appeal window), with the start each is fixed to (None: counted from receipt
# or from another stage, as the policy says); any other stage is computed from its `from` and met by its
# `met_by`.
BUILTIN_STAGES = {"investigation": None, "handling": None, "promise": "event:promised",
                  "callback": "event:handled", "appeal": "event:judged"}
# Named events a stage may count from, besides "event:<form kind>.<date field>".
EVENTS = ("handled", "judged", "promised")
# Tables whose keys are chosen by the office (new deadline classes, channel classes, stages).
OPEN_TABLES = {("deadlines", "classes"), ("channels",), ("unit_keywords",), ("channel_aliases",), ("stages",)}
# An override of the key on the left replaces the default's tables on the right instead of merging.
RESETS = {("tiers",): (("stages",), ("deadlines", "classes"), ("channels",)),
          ("units", "names"): (("unit_keywords",),)}
STAGE_KEYS = {"name", "from", "met_by", "unit_owes", "recurring"}
TIER_KEYS = {"name", "labels", "major", "escalate"}
POLICIES = TEMPLATES / "policies"           # the shipped policies of other regulations (`tousu init --policy`)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|h|d)\s*$")
_NATURAL_DAYS = re.compile(r"^\s*(\d+)\s*自然日\s*$")


@dataclass(frozen=True)
class NaturalDays:
    """"15自然日": natural days whatever the policy's calendar (seed 001 counts its limits in working days
    but its callback 15 days after the reply); like any day limit it ends at end_of_day of day N."""
    days: int


# A 附件3 limit: days in the policy's calendar, natural days, a duration, or REQUIRED_DATE.
Limit = int | NaturalDays | timedelta | str


_KINDS = {bool: "true 或 false", int: "数字", float: "数字", str: "文字", list: "列表（如 [\"甲\", \"乙\"]）",
          dict: "表"}                 # TOML value kinds as the office reads them


def _shown(value: object) -> str:
    """A policy value as the office wrote it in TOML (「文字」, true, ["甲", "乙"]), never a Python repr."""
    return f"「{value}」" if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _fail(source: Path, dotted: str, message: str) -> PolicyError:
    return PolicyError(f"策略文件 {source} 中的键「{dotted}」{message}")


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        place = f"第 {where.group(1)} 行第 {where.group(2)} 列附近" if where else ""
        raise PolicyError(f"策略文件 {path} {place}格式错误（不符合 TOML 语法，如缺少引号、括号或等号）。"
                          f"请修改后重试。") from exc
    except OSError as exc:
        raise PolicyError(f"无法读取策略文件 {path}：{exc}") from exc


def _same_kind(default: object, value: object) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)) and isinstance(value, (int, float)):
        return True
    return type(default) is type(value)


def _open(path: tuple[str, ...]) -> bool:
    return path in OPEN_TABLES or path[:2] in OPEN_TABLES or path[:1] in OPEN_TABLES


def _merge(default: dict[str, Any], override: dict[str, Any], source: Path,
           path: tuple[str, ...] = ()) -> dict[str, Any]:
    merged = dict(default)
    for key, value in override.items():
        here = path + (key,)
        if key not in default:
            if _open(path):
                merged[key] = value
                continue
            raise _fail(source, ".".join(here), "不存在。请检查拼写，可用的键见 templates/policy.toml。")
        old = default[key]
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _merge(old, value, source, here)
        elif _open(path) or _same_kind(old, value):
            merged[key] = value
        else:
            raise _fail(source, ".".join(here), f"取值类型不对：应为{_KINDS.get(type(old), '其他类型')}，"
                                                     f"实为{_shown(value)}（{_KINDS.get(type(value), '其他类型')}）。")
    return merged


def _reset(default: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The default without the tables an override's own RESETS key replaces."""
    result = dict(default)
    for key, tables in RESETS.items():
        if _lookup(override, key) is None:
            continue
        for table in tables:
            parent = result
            for part in table[:-1]:
                parent[part] = parent = dict(parent[part])
            parent[table[-1]] = {}
    return result


def _lookup(raw: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(raw, dict) or part not in raw:
            return None
        raw = raw[part]
    return raw


def parse_limit(value: object, where: str, source: Path = DEFAULT_POLICY) -> Limit | None:
    """A 附件3 limit: int days (in the policy's calendar), "N自然日", a duration string ("15min", "2h",
    "3d"), REQUIRED_DATE, or None for NOT_APPLICABLE; anything else is a PolicyError naming the file and
    the key."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        if value == REQUIRED_DATE:
            return value
        if value == NOT_APPLICABLE:
            return None
        natural = _NATURAL_DAYS.match(value)
        if natural:
            return NaturalDays(int(natural.group(1)))
        duration = parse_duration(value)
        if duration is not None:
            return int(duration.days) if duration == timedelta(days=duration.days) and value.strip()[-1] == "d" \
                else duration
    raise _fail(source, where, f"取值无效：「{value}」。应为天数（整数，按 calendar 计）、自然日（如 \"15自然日\"）、"
                               f"时长（如 \"30min\"、\"2h\"）、\"{REQUIRED_DATE}\" 或 \"{NOT_APPLICABLE}\"。")


def parse_duration(text: str) -> timedelta | None:
    match = _DURATION.match(text)
    if not match:
        return None
    amount, unit = float(match.group(1)), match.group(2)
    return timedelta(minutes=amount) if unit == "min" else timedelta(hours=amount) if unit == "h" \
        else timedelta(days=amount)


# ------------------------------------------------------------------ the typed policy
@dataclass(frozen=True)
class Tier:
    name: str                           # 投诉性质 as the clerk reads it (重大, 紧急, 一般 …)
    labels: tuple[str, ...]             # texts the intake may tick or choose that mean this tier
    major: bool                         # counts as 重大 for scoring and rules 8/9
    escalate: bool = False              # the major tier rules 8/9 and a ticked 重大情形 raise a case to


@dataclass(frozen=True)
class Stage:
    key: str                            # JSON key ("investigation", "progress")
    name: str                           # Chinese name on receipts, ledgers, notices, 月报
    start: str                          # "received" | "stage:<key>" | "event:<event or kind.field>"
    met_by: tuple[str, str] | None      # (form kind, its date field) that meets it, or ("event", "handled")
    unit_owes: bool                     # supervised by notices and charged as late
    recurring: timedelta | None = None  # due again every period until the case is closed

    @property
    def builtin(self) -> bool:
        return self.key in BUILTIN_STAGES

    @property
    def window(self) -> bool:
        """A deadline that closes a right (the appeal window), never overdue."""
        return self.key == "appeal"


@dataclass(frozen=True)
class DeadlineSettings:
    calendar: str                       # "natural" | "working"
    end_of_day: time
    unknown_channel_class: str
    fallback_class: str
    classes: Mapping[str, Mapping[str, Mapping[str, Limit | None]]]   # class -> tier -> stage -> limit


@dataclass(frozen=True)
class CalendarSettings:
    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int]


@dataclass(frozen=True)
class Classification:
    repeat_window_days: int
    cluster_hours: int
    cluster_people: int
    scope: str = "office"               # rules 8/9 over this office's cases, or "group": every office's


@dataclass(frozen=True)
class Policy:
    number_pattern: str
    tiers: tuple[Tier, ...]
    stages: tuple[Stage, ...]
    deadlines: DeadlineSettings
    channels: Mapping[str, tuple[str, ...]]
    calendar: CalendarSettings
    classification: Classification
    major_points: float                 # [scoring]
    notice_days: int                    # [supervision]
    settle_seconds: float               # [watch]
    rescan_seconds: float
    journal_path: str                   # [journal] path
    journal_url: str                    # [journal] url: a group's PostgreSQL journal ("" = SQLite)
    office_code: str                    # [office] code: this office in a group ({office} in number_pattern)
    units: tuple[str, ...]
    unit_keywords: Mapping[str, tuple[str, ...]]
    channel_aliases: Mapping[str, tuple[str, ...]]

    # --- deadlines and channels --------------------------------------------------------------
    @property
    def calendar_mode(self) -> str:
        return self.deadlines.calendar

    @property
    def end_of_day(self) -> time:
        return self.deadlines.end_of_day

    @property
    def fallback_class(self) -> str:
        """The deadline class whose limits stand in for "要求办结日期" when a form carries no such date."""
        return self.deadlines.fallback_class

    def limit(self, channel_class: str, tier: str, stage: str) -> Limit | None:
        """The 附件3 limit; None when the stage does not apply to the tier ("不适用") or is not the
        policy's. A tier the policy no longer names (a case taken under another policy) counts as the
        policy's minor tier."""
        row = self.deadlines.classes[channel_class]
        return (row.get(tier) or row[self.minor_tier]).get(stage)

    def channel_class(self, channel: str) -> tuple[str, bool]:
        """(deadline class, whether the channel was recognised) for a 受理渠道 text."""
        from .forms.labels import normalise
        text = normalise(channel)
        best, best_len = None, 0
        for cls, keywords in self.channels.items():
            for keyword in keywords:
                key = normalise(keyword)
                if key and key in text and len(key) > best_len:
                    best, best_len = cls, len(key)
        if best is None:
            return self.deadlines.unknown_channel_class, False
        return best, True

    def channel_names(self) -> list[str]:
        return [k for keywords in self.channels.values() for k in keywords]

    # --- tiers and stages ------------------------------------------------------------------------
    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(tier.name for tier in self.tiers)

    @property
    def major_tier(self) -> str:
        """The tier a case takes when it becomes major (rules 8/9, a ticked 重大情形, an appeal ruled 重大): the
        one marked `escalate = true`, else the first major one (a policy that lists 紧急 before 重大 marks
        重大: a repeat complaint is not an emergency)."""
        return next((t.name for t in self.tiers if t.escalate), next(t.name for t in self.tiers if t.major))

    @property
    def minor_tier(self) -> str:
        """The tier of an intake that names none: the last one that is not major."""
        return [tier.name for tier in self.tiers if not tier.major][-1]

    def is_major(self, tier: str | None) -> bool:
        return any(t.name == tier and t.major for t in self.tiers)

    def stage(self, key: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.key == key), None)

    def stage_name(self, key: str) -> str:
        """The Chinese name of a stage; an occurrence of a recurring stage ("progress#2") is 「…（第2次）」."""
        base, _, nth = key.partition("#")
        stage = self.stage(base)
        name = stage.name if stage else base
        return f"{name}（第{nth}次）" if nth else name

    @property
    def stage_names(self) -> dict[str, str]:
        return {stage.key: stage.name for stage in self.stages}

    @property
    def unit_stages(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages if stage.unit_owes)

    # --- calendar ------------------------------------------------------------------------------
    @property
    def extra_holidays(self) -> frozenset[date]:
        return self.calendar.holidays

    @property
    def extra_workdays(self) -> frozenset[date]:
        return self.calendar.workdays

    @property
    def complete_years(self) -> frozenset[int]:
        return self.calendar.years

    # --- names ---------------------------------------------------------------------------------
    def channel_name(self, text: str | None) -> str:
        """The 受理渠道 a text counts as: the canonical name of [channel_aliases] whose name or alias it
        equals (spaces and full-width forms aside), else the text itself ("" for none)."""
        from .forms.labels import normalise
        key = normalise(text)
        for name, aliases in self.channel_aliases.items():
            if key in {normalise(name), *map(normalise, aliases)}:
                return name
        return (text or "").strip()

    def unit_for_target(self, text: str | None) -> str | None:
        """The unit a 投诉对象 text names: the unit whose name or longest keyword ([unit_keywords]) it
        contains; None when no unit's does."""
        from .forms.labels import normalise
        target, best, best_len = normalise(text), None, 0
        for unit in self.units:
            for keyword in (unit, *self.unit_keywords.get(unit, ())):
                key = normalise(keyword)
                if key and key in target and len(key) > best_len:
                    best, best_len = unit, len(key)
        return best


# ------------------------------------------------------------------ parsing the merged TOML
class _Parser:
    def __init__(self, raw: dict[str, Any], source: Path):
        self.raw, self.source = raw, source

    def fail(self, dotted: str, message: str) -> PolicyError:
        return _fail(self.source, dotted, message)

    def texts(self, value: object, dotted: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            raise self.fail(dotted, "应为文字列表。")
        return tuple(value)

    def dates(self, dotted: str) -> frozenset[date]:
        try:
            return frozenset(date.fromisoformat(v) for v in _lookup(self.raw, tuple(dotted.split("."))))
        except (TypeError, ValueError) as exc:
            raise self.fail(dotted, f"应为 \"YYYY-MM-DD\" 形式的日期列表：{exc}") from exc

    def tiers(self) -> tuple[Tier, ...]:
        from .forms.labels import normalise
        tiers: list[Tier] = []
        owner: dict[str, str] = {}          # normalised label -> the tier it already names
        for index, table in enumerate(self.raw["tiers"]):
            where = f"tiers[{index}]"
            if not isinstance(table, dict):
                raise self.fail(where, "应为 [[tiers]] 表，含 name（文字）、labels（文字列表）、major（true/false）。")
            unknown = set(table) - TIER_KEYS
            if unknown:
                raise self.fail(f"{where}.{sorted(unknown)[0]}",
                                f"不存在。投诉性质可用的键：{'、'.join(sorted(TIER_KEYS))}。")
            name = table.get("name")
            if not isinstance(name, str) or not name.strip():
                raise self.fail(f"{where}.name", "应为投诉性质的名称（文字，不能为空），如 name = \"重大\"。")
            flags = {key: table.get(key, False) for key in ("major", "escalate")}
            for key, flag in flags.items():
                if not isinstance(flag, bool):
                    raise self.fail(f"{where}.{key}", f"应为 true 或 false，实为{_shown(flag)}。")
            labels = tuple(dict.fromkeys((name, *self.texts(table.get("labels", [name]), f"{where}.labels"))))
            for label in labels:
                if owner.setdefault(normalise(label), name) != name:
                    raise self.fail(f"{where}.labels", f"中的「{label}」已是投诉性质「{owner[normalise(label)]}」的标签"
                                                       f"（或名称）；同一标签只能指一个投诉性质。")
            tiers.append(Tier(name, labels, flags["major"], flags["escalate"]))
        names = [tier.name for tier in tiers]
        if len(set(names)) != len(names) or not any(t.major for t in tiers) or all(t.major for t in tiers):
            raise self.fail("tiers", "应列出名称互不相同的投诉性质，其中至少一个 major = true、一个 major = false。")
        if sum(t.escalate for t in tiers) > 1 or any(t.escalate and not t.major for t in tiers):
            raise self.fail("tiers", "中 escalate = true 只能标在一个 major = true 的投诉性质上。")
        return tuple(tiers)

    def stage(self, key: str, table: object) -> Stage:
        where = f"stages.{key}"
        if not key.isidentifier():
            raise self.fail(where, "的环节键只能由英文字母、数字和下划线组成（如 progress）。")
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            raise self.fail(where, "应为含 name（环节中文名称）的表。")
        unknown = set(table) - STAGE_KEYS
        if unknown:
            raise self.fail(f"{where}.{sorted(unknown)[0]}", f"不存在。环节可用的键：{'、'.join(sorted(STAGE_KEYS))}。")
        start = table.get("from", "received")
        if not isinstance(start, str) or not (start == "received" or start.startswith(("stage:", "event:"))):
            raise self.fail(f"{where}.from", f"应为 \"received\"、\"stage:<环节>\" 或 \"event:<事件>\"，"
                                             f"实为{_shown(start)}。")
        fixed = BUILTIN_STAGES.get(key)
        if (fixed and start != fixed) or (key in BUILTIN_STAGES and not fixed and start.startswith("event:")):
            allowed = f"\"{fixed}\"" if fixed else "\"received\" 或 \"stage:<环节>\""
            raise self.fail(f"{where}.from", f"是内置环节，起算应为 {allowed}。")
        met_by = table.get("met_by")
        if isinstance(met_by, str) and met_by in ("event:handled", "event:judged"):
            met_by = met_by.replace(":", ".")
        elif met_by is not None and (not isinstance(met_by, str) or met_by.count(".") != 1):
            raise self.fail(f"{where}.met_by", f"应为 \"表单.日期字段\"（如 \"feedback.feedback_date\"），"
                                               f"实为{_shown(met_by)}。")
        owes = table.get("unit_owes", False)
        if not isinstance(owes, bool):
            raise self.fail(f"{where}.unit_owes", f"应为 true 或 false，实为{_shown(owes)}。")
        recurring = table.get("recurring")
        period = parse_duration(recurring) if isinstance(recurring, str) else None
        if recurring is not None and not period:
            raise self.fail(f"{where}.recurring", f"应为时长（如 \"24h\"），实为{_shown(recurring)}。")
        if met_by is None and (owes or recurring is not None):
            raise self.fail(f"{where}.met_by", "缺失：承办单位须反馈的环节（unit_owes = true）和定期环节"
                                               "（recurring）须写明由哪种表单的哪个日期满足，如 "
                                               "met_by = \"feedback.feedback_date\"；"
                                               "否则它永远无法满足，每起都会超时。")
        split = tuple(met_by.split(".")) if met_by else None
        return Stage(key, table["name"], start, (split[0], split[1]) if split else None, owes, period)

    def stages(self) -> tuple[Stage, ...]:
        from .forms.kinds import KINDS
        dated = [f"{kind.key}.{key}" for kind in KINDS for key in kind.date_fields]
        stages = tuple(self.stage(key, table) for key, table in self.raw["stages"].items())
        keys: list[str] = []
        for stage in stages:
            ref = stage.start.partition(":")[2]
            if stage.start.startswith("stage:") and ref not in keys:
                raise self.fail(f"stages.{stage.key}.from", f"引用的环节「{ref}」须在它之前的 [stages] 中定义。")
            fields = "、".join(dated)
            if stage.start.startswith("event:") and ref not in (*EVENTS, *dated) or \
                    (stage.start == "event:promised" and not stage.builtin):
                raise self.fail(f"stages.{stage.key}.from", f"事件「{ref}」不可用：可用 handled、judged"
                                                            f"（promised 仅用于 promise），或表单的日期字段 {fields}。")
            met_by = ".".join(stage.met_by or ())
            if stage.met_by and stage.met_by[0] != "event" and met_by not in dated:
                raise self.fail(f"stages.{stage.key}.met_by", f"「{met_by}」不是表单的日期字段；可用：{fields}，"
                                                              f"或 \"event:handled\"、\"event:judged\"。")
            keys.append(stage.key)
        return stages

    def classes(self, tiers: tuple[Tier, ...],
                stages: tuple[Stage, ...]) -> dict[str, dict[str, dict[str, Limit | None]]]:
        """class -> tier -> stage -> limit; every stage but the promise needs one per class and tier."""
        limited = [stage.key for stage in stages if stage.start != "event:promised"]
        classes: dict[str, dict[str, dict[str, Limit | None]]] = {}
        for cls, table in self.raw["deadlines"]["classes"].items():
            classes[cls] = {}
            extra_tiers = set(table) - {t.name for t in tiers} if isinstance(table, dict) else set()
            if extra_tiers:                 # a misspelt tier first: else it reads as the real one missing
                raise self.fail(f"deadlines.classes.{cls}.{sorted(extra_tiers)[0]}",
                                f"不是 [[tiers]] 中的投诉性质（{'、'.join(t.name for t in tiers)}）。")
            for tier in tiers:
                row = table.get(tier.name) if isinstance(table, dict) else None
                classes[cls][tier.name] = {}
                extra = set(row or ()) - set(limited)
                if extra:                   # likewise a misspelt stage, in the limits or in [stages]
                    raise self.fail(f"deadlines.classes.{cls}.{tier.name}.{sorted(extra)[0]}",
                                    f"不是 [stages] 中需要时限的环节（{'、'.join(limited)}）；请核对两处的环节键拼写。")
                for stage in limited:
                    where = f"deadlines.classes.{cls}.{tier.name}.{stage}"
                    if not isinstance(row, dict) or stage not in row:
                        raise PolicyError(f"策略文件 {self.source} 缺少键「{where}」。")
                    classes[cls][tier.name][stage] = parse_limit(row[stage], where, self.source)
        return classes

    def deadlines(self, tiers: tuple[Tier, ...], stages: tuple[Stage, ...]) -> DeadlineSettings:
        raw = self.raw["deadlines"]
        if raw["calendar"] not in ("natural", "working"):
            raise self.fail("deadlines.calendar", f"只能是 \"natural\" 或 \"working\"，实为{_shown(raw['calendar'])}。")
        classes = self.classes(tiers, stages)
        if raw["unknown_channel_class"] not in classes:
            raise self.fail("deadlines.unknown_channel_class", "不是已定义的时限类别。")
        fallback = raw["fallback_class"]
        if fallback not in classes or any(limit == REQUIRED_DATE for row in classes[fallback].values()
                                          for limit in row.values()):
            raise self.fail("deadlines.fallback_class", f"应为以天数或时长计的时限类别（不能是按\"{REQUIRED_DATE}\"计的"
                                                        f"类别），实为{_shown(fallback)}。")
        try:
            end_of_day = time.fromisoformat(raw["end_of_day"])
        except ValueError:
            raise self.fail("deadlines.end_of_day", "应为 \"HH:MM:SS\"。") from None
        return DeadlineSettings(raw["calendar"], end_of_day, raw["unknown_channel_class"], fallback, classes)

    def channels(self, classes: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
        channels = {}
        for cls, keywords in self.raw["channels"].items():
            if cls not in classes:
                raise self.fail(f"channels.{cls}", "的渠道类别在 deadlines.classes 中没有对应的时限表。")
            channels[cls] = self.texts(keywords, f"channels.{cls}")
        return channels

    def unit_keywords(self, units: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        found = {}
        for unit, keywords in self.raw["unit_keywords"].items():
            found[unit] = self.texts(keywords, f"unit_keywords.{unit}")
            if found[unit] and unit not in units:
                raise self.fail(f"unit_keywords.{unit}", "不是 [units] names 中的单位；请改为单位名单中的名称"
                                                         "（不再使用的单位可设为 []）。")
        return found

    def policy(self) -> Policy:
        raw = self.raw
        if "{seq" not in raw["numbering"]["pattern"]:
            raise self.fail("numbering.pattern", "必须含有 {seq} 序号。")
        tiers, stages = self.tiers(), self.stages()
        deadlines = self.deadlines(tiers, stages)
        units = self.texts(raw["units"]["names"], "units.names")
        years = _lookup(raw, ("calendar", "years"))
        if not isinstance(years, list) or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
            raise self.fail("calendar.years", "应为年份（整数）列表。")
        if raw["classification"]["scope"] not in ("office", "group"):
            raise self.fail("classification.scope", "只能是 \"office\"（本单位）或 \"group\"（集团各单位）。")
        try:
            office = check_office_code(raw["office"]["code"].strip())
            pattern = office_pattern(raw["numbering"]["pattern"], office)
        except PolicyError as exc:
            raise PolicyError(f"策略文件 {self.source}：{exc}") from None
        return Policy(
            number_pattern=pattern, tiers=tiers, stages=stages, deadlines=deadlines,
            channels=self.channels(deadlines.classes),
            calendar=CalendarSettings(self.dates("calendar.holidays"), self.dates("calendar.workdays"),
                                      frozenset(years)),
            classification=Classification(**raw["classification"]),
            major_points=raw["scoring"]["major_points"], notice_days=raw["supervision"]["notice_days"],
            settle_seconds=raw["watch"]["settle_seconds"], rescan_seconds=raw["watch"]["rescan_seconds"],
            journal_path=raw["journal"]["path"], journal_url=raw["journal"]["url"], office_code=office,
            units=units, unit_keywords=self.unit_keywords(units),
            channel_aliases={name: self.texts(aliases, f"channel_aliases.{name}")
                             for name, aliases in raw["channel_aliases"].items()})


def load_policy(override: Path | None = None) -> Policy:
    raw = _load_toml(DEFAULT_POLICY)
    source = DEFAULT_POLICY
    if override is not None and override.exists():
        own = _load_toml(override)
        raw = _merge(_reset(raw, own), own, override)
        source = override
    return _Parser(raw, source).policy()


def shipped_policies() -> dict[str, Path]:
    """The policies shipped for other regulations: {"003": templates/policies/003.toml, …}."""
    return {path.stem: path for path in sorted(POLICIES.glob("*.toml"))}


def shipped_policy(name: str) -> Path:
    """The file of a shipped policy; a name that is none of them is a PolicyError listing them."""
    shipped = shipped_policies()
    if name not in shipped:
        raise PolicyError(f"没有名为「{name}」的制度策略；可选：{'、'.join(shipped)}（见 templates/policies/）。")
    return shipped[name]


def adopt_policy(root: Path, name: str) -> Path:
    """Start the workspace at `root` with a shipped policy: its file becomes root/policy.toml. A workspace
    that already has another policy.toml keeps it (PolicyError: the office's own edits are never lost)."""
    from .files import write_atomically
    text, target = shipped_policy(name).read_bytes(), root / "policy.toml"
    if target.exists() and target.read_bytes() != text:
        raise PolicyError(f"工作区已有策略文件 {target}，未覆盖。要改用制度 {name}，请先备份并删除该文件后重试。")
    write_atomically(target, text)
    load_policy(target)
    return target
