"""The policy: templates/policy.toml holds every default; a workspace's policy.toml overrides it
key by key. A file that does not parse, an unknown key or a value of the wrong kind is a PolicyError
that names the key (the CLI exits 2)."""
import re
import tomllib
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path

from .errors import PolicyError
from .paths import DEFAULT_POLICY

SEVERITIES = ("重大", "非重大")
STAGES = ("investigation", "handling", "callback", "appeal")
REQUIRED_DATE = "要求办结日期"
# Tables whose keys are chosen by the office (new deadline classes, new channel classes).
OPEN_TABLES = {("deadlines", "classes"), ("channels",), ("unit_keywords",), ("channel_aliases",)}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|h|d)\s*$")


def _load_toml(path: Path) -> dict:
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


def _same_kind(default, value) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)) and isinstance(value, (int, float)):
        return True
    return type(default) is type(value)


def _merge(default: dict, override: dict, source: Path, path: tuple = ()) -> dict:
    merged = dict(default)
    for key, value in override.items():
        here = path + (key,)
        dotted = ".".join(here)
        if key not in default:
            if path in OPEN_TABLES or path[:2] in OPEN_TABLES:
                merged[key] = value
                continue
            raise PolicyError(f"策略文件 {source} 中的键「{dotted}」不存在。请检查拼写，"
                              f"可用的键见 templates/policy.toml。")
        old = default[key]
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _merge(old, value, source, here)
        elif path[:2] in OPEN_TABLES or path in OPEN_TABLES or _same_kind(old, value):
            merged[key] = value
        else:
            raise PolicyError(f"策略文件 {source} 中的键「{dotted}」取值类型不对：应为"
                              f"{type(old).__name__}，实为 {value!r}。")
    return merged


def parse_limit(value, where: str):
    """A 附件3 limit: int days, a duration string ("15min", "2h", "3d") or REQUIRED_DATE."""
    if isinstance(value, bool):
        raise PolicyError(f"策略键「{where}」取值无效：{value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        if value == REQUIRED_DATE:
            return value
        match = _DURATION.match(value)
        if match:
            amount, unit = float(match.group(1)), match.group(2)
            if unit == "d" and amount.is_integer():
                return int(amount)
            return timedelta(minutes=amount) if unit == "min" else timedelta(hours=amount) \
                if unit == "h" else timedelta(days=amount)
    raise PolicyError(f"策略键「{where}」取值无效：{value!r}。应为天数（整数）、时长（如 \"30min\"、"
                      f"\"2h\"）或 \"{REQUIRED_DATE}\"。")


def _dates(values, where: str) -> frozenset:
    try:
        return frozenset(date.fromisoformat(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"策略键「{where}」应为 \"YYYY-MM-DD\" 形式的日期列表：{exc}") from exc


@dataclass(frozen=True)
class Policy:
    raw: dict

    # --- numbering -------------------------------------------------------------------------
    @property
    def number_pattern(self) -> str:
        return self.raw["numbering"]["pattern"]

    # --- deadlines and channels --------------------------------------------------------------
    @property
    def calendar_mode(self) -> str:
        return self.raw["deadlines"]["calendar"]

    @property
    def end_of_day(self) -> time:
        return time.fromisoformat(self.raw["deadlines"]["end_of_day"])

    def limit(self, channel_class: str, severity: str, stage: str):
        where = f"deadlines.classes.{channel_class}.{severity}.{stage}"
        return parse_limit(self.raw["deadlines"]["classes"][channel_class][severity][stage], where)

    def channel_class(self, channel: str) -> tuple[str, bool]:
        """(deadline class, whether the channel was recognised) for a 受理渠道 text."""
        from .forms.labels import normalise
        text = normalise(channel)
        best, best_len = None, 0
        for cls, keywords in self.raw["channels"].items():
            for keyword in keywords:
                key = normalise(keyword)
                if key and key in text and len(key) > best_len:
                    best, best_len = cls, len(key)
        if best is None:
            return self.raw["deadlines"]["unknown_channel_class"], False
        return best, True

    def channel_names(self) -> list[str]:
        return [k for keywords in self.raw["channels"].values() for k in keywords]

    # --- calendar ------------------------------------------------------------------------------
    @property
    def extra_holidays(self) -> frozenset:
        return _dates(self.raw["calendar"]["holidays"], "calendar.holidays")

    @property
    def extra_workdays(self) -> frozenset:
        return _dates(self.raw["calendar"]["workdays"], "calendar.workdays")

    @property
    def complete_years(self) -> frozenset:
        return frozenset(int(y) for y in self.raw["calendar"]["years"])

    # --- other sections --------------------------------------------------------------------------
    @property
    def units(self) -> list[str]:
        return list(self.raw["units"]["names"])

    def section(self, name: str) -> dict:
        return self.raw[name]

    def channel_name(self, text: str | None) -> str:
        """The 受理渠道 a text counts as: the canonical name of [channel_aliases] whose name or alias it
        equals (spaces and full-width forms aside), else the text itself ("" for none)."""
        from .forms.labels import normalise
        key = normalise(text)
        for name, aliases in self.raw["channel_aliases"].items():
            if key in {normalise(name), *map(normalise, aliases)}:
                return name
        return (text or "").strip()

    def unit_for_target(self, text: str | None) -> str | None:
        """The unit a 投诉对象 text names: the unit whose name or longest keyword ([unit_keywords]) it
        contains; None when no unit's does."""
        from .forms.labels import normalise
        target, best, best_len = normalise(text), None, 0
        for unit in self.units:
            for keyword in (unit, *self.raw["unit_keywords"].get(unit, ())):
                key = normalise(keyword)
                if key and key in target and len(key) > best_len:
                    best, best_len = unit, len(key)
        return best

    @property
    def fallback_class(self) -> str:
        """The deadline class whose limits stand in for "要求办结日期" when a form carries no such date."""
        return self.raw["deadlines"]["fallback_class"]


def _validate(raw: dict, source: Path) -> None:
    if raw["deadlines"]["calendar"] not in ("natural", "working"):
        raise PolicyError(f"策略文件 {source} 中的键「deadlines.calendar」只能是 \"natural\" 或 "
                          f"\"working\"，实为 {raw['deadlines']['calendar']!r}。")
    classes = raw["deadlines"]["classes"]
    for cls, table in classes.items():
        for severity in SEVERITIES:
            for stage in STAGES:
                try:
                    value = table[severity][stage]
                except (KeyError, TypeError):
                    raise PolicyError(f"策略文件 {source} 缺少键「deadlines.classes.{cls}.{severity}."
                                      f"{stage}」。") from None
                parse_limit(value, f"deadlines.classes.{cls}.{severity}.{stage}")
    for cls, keywords in raw["channels"].items():
        if cls not in classes:
            raise PolicyError(f"策略文件 {source} 中的渠道类别「channels.{cls}」在 deadlines.classes "
                              f"中没有对应的时限表。")
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise PolicyError(f"策略文件 {source} 中的键「channels.{cls}」应为文字列表。")
    if raw["deadlines"]["unknown_channel_class"] not in classes:
        raise PolicyError(f"策略文件 {source} 中的键「deadlines.unknown_channel_class」不是已定义的时限类别。")
    fallback = raw["deadlines"]["fallback_class"]
    if fallback not in classes or any(parse_limit(classes[fallback][s][stage], "") == REQUIRED_DATE
                                      for s in SEVERITIES for stage in STAGES):
        raise PolicyError(f"策略文件 {source} 中的键「deadlines.fallback_class」应为以天数或时长计的时限类别"
                          f"（不能是按\"{REQUIRED_DATE}\"计的类别），实为 {fallback!r}。")
    try:
        time.fromisoformat(raw["deadlines"]["end_of_day"])
    except ValueError:
        raise PolicyError(f"策略文件 {source} 中的键「deadlines.end_of_day」应为 \"HH:MM:SS\"。") from None
    _dates(raw["calendar"]["holidays"], "calendar.holidays")
    _dates(raw["calendar"]["workdays"], "calendar.workdays")
    for unit, keywords in raw["unit_keywords"].items():
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise PolicyError(f"策略文件 {source} 中的键「unit_keywords.{unit}」应为文字列表。")
        if keywords and unit not in raw["units"]["names"]:
            raise PolicyError(f"策略文件 {source} 中的键「unit_keywords.{unit}」不是 [units] names 中的单位；"
                              f"请改为单位名单中的名称（不再使用的单位可设为 []）。")
    if "{seq" not in raw["numbering"]["pattern"]:
        raise PolicyError(f"策略文件 {source} 中的键「numbering.pattern」必须含有 {{seq}} 序号。")


def load_policy(override: Path | None = None) -> Policy:
    raw = _load_toml(DEFAULT_POLICY)
    source = DEFAULT_POLICY
    if override is not None and override.exists():
        raw = _merge(raw, _load_toml(override), override)
        source = override
    _validate(raw, source)
    return Policy(raw)
