"""Value types: each converts a cell's raw value through one method, `convert`, and fails with
ValueIssue (a Chinese message) that the reader turns into a located problem."""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .reader import ConvertContext

TICKS = "☑☒■√✓✔×✗✘Xx"
BOXES = "□☐口▢"
# The default policy's tiers, as a blank 附件1/附件2 prints them (the policy's [[tiers]] decide at check time).
SEVERITY_OPTIONS = (("重大", ("重大投诉", "重大")), ("非重大", ("非重大投诉", "非重大", "一般投诉", "一般")))
EXCEL_SERIAL_RANGE = (20000, 80000)   # 1954 .. 2119: plausible dates typed as serials
EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 of an Excel serial past 60 (every serial of the range above)


# Full-width digits and Latin letters -> ASCII; Chinese punctuation (，。（）) is left as typed.
FULL_WIDTH_ALNUM = str.maketrans({chr(c): chr(c - 0xFEE0) for c in
                                  [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]})


class ValueIssue(Exception):
    """A value that cannot be understood; the message says how to write it."""


class ValueType(Protocol):
    """What a field declares as its type: a hint for messages and the one conversion."""
    @property
    def hint(self) -> str: ...

    def convert(self, raw: object, ctx: "ConvertContext") -> object: ...


# ((canonical, (alias, ...)), ...): a Choice's options.
Options = tuple[tuple[str, tuple[str, ...]], ...]


def fold(text: object) -> str:
    """Full-width -> half-width (NFKC) and trimmed; check-box marks survive NFKC."""
    return unicodedata.normalize("NFKC", str(text)).strip()


@dataclass(frozen=True)
class Text:
    hint: str = "文字"

    def convert(self, raw: object, ctx: "ConvertContext") -> str | None:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, datetime):
            return raw.isoformat(sep=" ", timespec="minutes")
        text = str(raw).strip().translate(FULL_WIDTH_ALNUM)
        return text or None


_DATE = re.compile(r"^(?:(\d{4}|\d{2})\s*[年/\-.])?\s*(\d{1,2})\s*[月/\-.]\s*(\d{1,2})\s*[日号]?")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\D|$)")
_TIME = re.compile(r"(?P<period>上午|下午|傍晚|晚上|夜里|夜间|中午|凌晨|早上)?\s*(?P<hour>\d{1,2})\s*[:：时点]\s*"
                   r"(?:(?P<half>半)|(?P<quarters>[123])\s*刻|整|(?P<minute>\d{1,2})\s*"
                   r"(?:[:：分]\s*(?:(?P<second>\d{1,2})\s*秒?)?)?)?\s*$")
# Hours a period word moves to the afternoon: 下午3点 15:00, 晚上8点 20:00 but 夜里2点 02:00, 中午1点 13:00.
AFTERNOON = {"下午": range(12), "傍晚": range(12), "晚上": range(6, 12), "夜里": range(6, 12), "夜间": range(6, 12),
             "中午": range(6)}
_CHINESE_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                   "八": 8, "九": 9}
_CHINESE_NUMBER = re.compile(f"[{''.join(_CHINESE_DIGITS)}十]+")


def _chinese_number(match: re.Match[str]) -> str:
    """九 -> 9, 十一 -> 11, 二十 -> 20, 二〇二六 -> 2026, 零五 -> 05; anything else is left as typed."""
    text = match.group(0)
    if "十" not in text:
        return "".join(str(_CHINESE_DIGITS[ch]) for ch in text)
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return text
    return str(_CHINESE_DIGITS.get(tens, 1) * 10 + _CHINESE_DIGITS.get(units, 0))


def _clock(text: str) -> time:
    """14:30, 14时30分, 下午3点, 下午3点半, 3点一刻 (Chinese numerals already made digits)."""
    tm = _TIME.search(text)
    if not tm:
        raise ValueIssue(f"无法识别时间「{text}」，请写成 14:30 或 14时30分")
    hour, second = int(tm["hour"]), int(tm["second"] or 0)
    minute = 30 if tm["half"] else 15 * int(tm["quarters"]) if tm["quarters"] else int(tm["minute"] or 0)
    if hour in AFTERNOON.get(tm["period"], ()):
        hour += 12
    try:
        return time(hour, minute, second)
    except ValueError:
        raise ValueIssue(f"时间「{text}」不存在，请检查时、分") from None


def parse_datetime(raw: object, reference: datetime) -> tuple[datetime, bool]:
    """(moment, whether a time of day was given). Accepts datetimes, Excel serials, and text such as
    2026-11-03 14:30, 2026/11/3, 2026年11月3日14时30分, 11月3日 (year from the reference),
    下午3点半, 3点一刻, Chinese numerals (十一月三日九点)."""
    if isinstance(raw, datetime):
        return raw.replace(microsecond=0, tzinfo=None), raw.time() != time(0)
    if isinstance(raw, date):
        return datetime.combine(raw, time(0)), False
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if EXCEL_SERIAL_RANGE[0] <= raw <= EXCEL_SERIAL_RANGE[1]:
            day, fraction = divmod(raw, 1)
            moment = EXCEL_EPOCH + timedelta(days=day, milliseconds=round(fraction * 86_400_000))
            moment = moment.replace(microsecond=0)
            return moment, moment.time() != time(0)
        raw = str(int(raw)) if float(raw).is_integer() else str(raw)
    text = _CHINESE_NUMBER.sub(_chinese_number, fold(raw).replace("T", " "))
    match = _DATE.match(text) or _COMPACT.match(text)
    if not match:
        raise ValueIssue("无法识别的日期，请写成 2026-11-03 14:30 或 2026年11月3日14时30分 的形式")
    year_text, month, day = match.group(1), int(match.group(2)), int(match.group(3))
    rest = text[match.end():].strip(" ,，日号")
    clock, has_time = (_clock(rest), True) if rest else (time(0), False)
    try:
        if year_text:
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            return datetime.combine(date(year, month, day), clock), has_time
        moment = datetime.combine(date(reference.year, month, day), clock)
        if moment.date() > reference.date():      # "11月3日" written in January means last year
            moment = moment.replace(year=reference.year - 1)
        return moment, has_time
    except ValueError:
        raise ValueIssue(f"日期「{text}」不存在，请检查年、月、日") from None


@dataclass(frozen=True)
class DateTime:
    hint: str = "日期时间"

    def convert(self, raw: object, ctx: "ConvertContext") -> datetime:
        return parse_datetime(raw, ctx.reference)[0]


@dataclass(frozen=True)
class Date:
    hint: str = "日期"

    def convert(self, raw: object, ctx: "ConvertContext") -> date:
        return parse_datetime(raw, ctx.reference)[0].date()


_MOBILE = re.compile(r"^1\d{10}$")
_LANDLINE = re.compile(r"^(0\d{2,3})-?(\d{7,8})(?:-\d{1,6})?$")
_PHONE_TOKEN = re.compile(r"[0-9][0-9\-]{5,}[0-9]")
_THREE_DIGIT_AREAS = ("010", "02")


def _format_landline(digits: str) -> str:
    area = 3 if digits.startswith(_THREE_DIGIT_AREAS) else 4
    return f"{digits[:area]}-{digits[area:]}"


def normalise_phone(raw: object, number_format: str = "General") -> list[str]:
    """Every phone number in the value, as text: mobiles as 11 digits, landlines as 0593-2856677.
    A number stored as a number gets back the leading 0 Excel dropped."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        digits = str(int(raw))
        width = number_format.count("0") if set(number_format) <= {"0"} else 0
        if width > len(digits):
            digits = digits.zfill(width)
        elif not _MOBILE.match(digits) and 9 <= len(digits) <= 11:
            digits = "0" + digits
        raw = digits
    found = []
    for token in _PHONE_TOKEN.findall(fold(raw).replace(" ", "")):
        digits = token.replace("-", "")
        if _MOBILE.match(digits):
            found.append(digits)
        elif _LANDLINE.match(token) or (digits.startswith("0") and 10 <= len(digits) <= 12):
            found.append(token if "-" in token else _format_landline(digits))
    return found


@dataclass(frozen=True)
class Phone:
    hint: str = "电话"

    def convert(self, raw: object, ctx: "ConvertContext") -> str:
        found = normalise_phone(raw, ctx.number_format)
        if not found:
            raise ValueIssue("不是有效的电话号码：手机为 1 开头的 11 位数字，座机须带区号（如 0593-2856677）")
        return "、".join(found)


@dataclass(frozen=True)
class Choice:
    """Options ticked by any mark in TICKS, or chosen from a dropdown (the option's text alone).
    `options` maps each canonical value to the texts that name it on forms."""
    options: Options
    multiple: bool = False
    hint: str = "勾选项"

    @property
    def blank_hint(self) -> str:
        return f"未勾选，请在 {'/'.join(c for c, _ in self.options)} 中勾选一项（☑ 或 √）"

    def convert(self, raw: object, ctx: "ConvertContext") -> str | tuple[str, ...] | None:
        chosen = ticked_options(fold(raw), self.options)
        if not chosen:
            return None                 # boxes printed but none ticked: the field is blank
        if not self.multiple and len(chosen) > 1:
            return tuple(chosen)        # the kind's rule decides (e.g. 责任 wins over 非责任)
        return tuple(chosen) if self.multiple else chosen[0]


@dataclass(frozen=True)
class TierChoice(Choice):
    """投诉性质: the policy's tiers are known only when the form is checked, so the text is kept as
    written and the kind's rule chooses the tier (forms.kinds.choose_tier). `options` are the ones a
    blank form prints (the default policy's)."""
    options: Options = SEVERITY_OPTIONS
    hint: str = "投诉性质"

    @property
    def blank_hint(self) -> str:
        return "未勾选，请勾选或填写投诉性质（可选项见 policy.toml 的 [[tiers]]）"

    def convert(self, raw: object, ctx: "ConvertContext") -> str | None:
        text = fold(raw)
        unticked = any(ch in BOXES for ch in text) and not any(ch in TICKS for ch in text)
        return None if unticked else text or None


EVALUATION_OPTIONS = (("满意", ("满意",)), ("基本满意", ("基本满意",)), ("不满意", ("不满意",)))
# What clerks write for a callback's 客户评价, most specific first; each match is masked before the next
# looks, so 不太满意 is not also read as 满意. None: a double negation (没有不满), which says too little.
_EVALUATION_PHRASES = (
    (None, re.compile(r"(?:没有|没|无|并无|并非|不是)不满|满意度(?:一般|中等|还行|尚可|普通)")),
    ("不满意", re.compile(r"(?:不|没有?|未|毫不)(?:是|太|很|大|够|怎么|甚|十分|非常|算|完全)*(?:满意|认可|接受)|不满|"
                         r"(?<![没无])有(?:意见|异议)|满意度(?:很|较|比较|偏|太)?(?:低|差|不高)|差评")),
    ("基本满意", re.compile(r"(?:基本上?|比较|较为?|还算|还比较|还|尚算?|大致|大体|勉强|一般)满意|基本认可")),
    ("满意", re.compile(r"满意|认可")),
)


@dataclass(frozen=True)
class Evaluation(Choice):
    """客户评价: ticked boxes (满意☑ 不满意□), or what the clerk typed (客户表示不太满意), read by
    reason: a negation before 满意 is 不满意, a qualified 满意 is 基本满意. Anything that does not
    say exactly one of the three (一般, 还行, 未接通, or two at once) is refused."""
    options: Options = EVALUATION_OPTIONS
    hint: str = "满意/基本满意/不满意"

    def convert(self, raw: object, ctx: "ConvertContext") -> str | None:
        text = fold(raw)
        if any(ch in TICKS + BOXES for ch in text):
            chosen = super().convert(text, ctx)
            if isinstance(chosen, tuple):
                raise ValueIssue(self._unclear("勾选了多项"))
            return chosen
        said = set()
        for meaning, phrase in _EVALUATION_PHRASES:
            if phrase.search(text):
                said.add(meaning)
                text = phrase.sub(lambda m: "\0" * len(m.group(0)), text)
        if len(said) != 1 or None in said:
            raise ValueIssue(self._unclear("无法判断是满意、基本满意还是不满意"))
        return said.pop()

    def _unclear(self, why: str) -> str:
        return f"{why}，请在 满意/基本满意/不满意 中勾选一项（☑ 或 √）"


def ticked_options(text: str, options: Options) -> list[str]:
    """Canonical options marked as chosen in `text`, in declaration order."""
    spans = []                                  # (start, end, canonical), longest aliases first
    masked = text
    aliases = sorted(((a, c) for c, names in options for a in names), key=lambda p: -len(p[0]))
    for alias, canonical in aliases:
        start = masked.find(alias)
        while start >= 0:
            spans.append((start, start + len(alias), canonical))
            masked = masked[:start] + "\0" * len(alias) + masked[start + len(alias):]
            start = masked.find(alias)
    if not spans:
        return []
    outside = "".join(ch for ch in masked if ch != "\0")
    if not any(ch in TICKS + BOXES for ch in outside):          # a dropdown value or plain text
        return [c for c, _ in options if c in {s[2] for s in spans}] if len(spans) == 1 else []
    marks_first = masked.lstrip()[:1] in TICKS + BOXES
    chosen = set()
    for start, end, canonical in spans:
        mark = _mark_before(masked, start) if marks_first else _mark_after(masked, end)
        if mark and mark in TICKS:
            chosen.add(canonical)
    return [c for c, _ in options if c in chosen]


def _mark_after(text: str, end: int) -> str:
    rest = text[end:].lstrip(" :：\t\n()（）")
    return rest[:1] if rest[:1] in TICKS + BOXES else ""


def _mark_before(text: str, start: int) -> str:
    before = text[:start].rstrip(" :：\t\n()（）")
    return before[-1:] if before[-1:] in TICKS + BOXES else ""


@dataclass(frozen=True)
class Number:
    hint: str = "数字"

    def convert(self, raw: object, ctx: "ConvertContext") -> float:
        try:
            return float(fold(raw).rstrip("分"))
        except ValueError:
            raise ValueIssue("应为数字") from None


@dataclass(frozen=True)
class Rules:
    """重大情形: which of the seed's rules 1–9 apply, written as 1,3 or 第1、3项 or ☑ marks."""
    hint: str = "规则编号"

    def convert(self, raw: object, ctx: "ConvertContext") -> tuple[int, ...]:
        numbers = sorted({int(n) for n in re.findall(r"\d+", fold(raw))})
        if not numbers or any(not 1 <= n <= 9 for n in numbers):
            raise ValueIssue("应填写重大投诉情形的序号 1–9（如 1、3）")
        return tuple(numbers)


# What clerks write in 投诉编号 for "not numbered yet": only punctuation, only Chinese words (无, 待编号,
# 暂无), only zeros, or one of these.
PLACEHOLDER_WORDS = ("NA", "N/A", "NONE", "NULL", "TBD")
_PLACEHOLDER = re.compile(r"^(?:[^0-9A-Za-z]*|0+)$")


@dataclass(frozen=True)
class ComplaintNumber:
    """投诉编号 folded to how tousu prints it (ＴＳ２０２６… and spaces dropped); a placeholder such as
    /, —, 无 or 待编号 is None, which the kind's rule reports as a placeholder."""
    hint: str = "投诉编号"
    blank_hint: str = "未填写（/、无、待编号 等视为未填写），请填写受理回执上的投诉编号"

    def convert(self, raw: object, ctx: "ConvertContext") -> str | None:
        text = re.sub(r"\s+", "", Text().convert(raw, ctx) or "")
        if _PLACEHOLDER.match(text) or text.upper() in PLACEHOLDER_WORDS:
            return None
        return text
