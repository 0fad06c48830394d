"""The forms, declared as data: title, fields (label, aliases, value type, what a blank costs),
and the kind's own rules. A new form kind is a declaration here, never a new parser."""
import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ..numbering import NumberPattern
from ..policy import REQUIRED_DATE
from ..problems import defect, error
from .values import (
    SEVERITY_OPTIONS,
    Choice,
    ComplaintNumber,
    Date,
    DateTime,
    Evaluation,
    Number,
    Phone,
    Rules,
    Text,
    TierChoice,
    ValueType,
    ticked_options,
)

if TYPE_CHECKING:
    from ..process import Env
    from .reader import Reading

# A kind's own rule: reads and corrects the reading's values, adds its problems.
Rule = Callable[["Reading", "Env"], None]

SEVERITY = TierChoice()
CLOCK_SKEW = timedelta(minutes=15)   # a PC clock this far ahead of the server's is not "the future"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str                      # as printed on the annex; used in every message
    aliases: tuple[str, ...] = ()
    type: ValueType = Text()
    required: str | None = "defect"  # blank costs: "error" refuses the form, "defect" is counted, None free
    long: bool = False              # free text that takes a whole row on the printed form
    copy_of: str | None = None      # the intake field this one repeats (disagreement is a defect)

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label,) + self.aliases


@dataclass(frozen=True)
class FormKind:
    key: str                        # JSON "form"
    name: str                       # short name in archived file names: <编号>-<name>-v<N>
    title: str                      # the annex title
    titles: tuple[str, ...]         # texts that recognise it in the headings
    fields: tuple[FieldSpec, ...]
    rules: tuple[Rule, ...] = ()
    number_field: str = "number"
    notes: tuple[str, ...] = ()     # the 说明 lines printed under the annex table
    annex: str = ""                 # "附件1" when the regulation prints the form
    opens_case: bool = False        # registers a new complaint (the intake); else it follows a numbered case
    dated: str | None = None        # the field dating the form itself, checked against 受理时间 and arrival
    # What it does to its case: the step it takes in the case replay (cases._Replay._<step>: the seed's rules
    # for a feedback, a callback, …); None: it is filed with the case and its dates are events the policy's
    # stages may count from or be met by, nothing more.
    case_step: str | None = None
    case_check: str | None = None   # what it must satisfy against its case to be filed (followup.CASE_CHECKS)

    def spec(self, key: str) -> FieldSpec:
        return next(f for f in self.fields if f.key == key)

    @property
    def date_fields(self) -> tuple[str, ...]:
        """The fields holding a date or a moment: what a policy's stage may count from or be met by."""
        return tuple(f.key for f in self.fields if isinstance(f.type, (Date, DateTime)))


# ------------------------------------------------------------------ shared rules
def suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.3)
    return f"，是否应为「{close[0]}」？" if close else "。"


def unit_in_policy(key: str, level: str) -> Rule:
    """The field names one of the policy's units; `level` says what a stranger costs."""
    def rule(reading: "Reading", env: "Env") -> None:
        value = reading.value(key)
        if value and value not in env.policy.units:
            report = error if level == "error" else defect
            reading.add(report(reading.label(key), reading.where(key),
                               f"「{value}」不是策略中的责任单位{suggest(value, env.policy.units)}"
                               f"可选：{'、'.join(env.policy.units)}"))
    return rule


def number_well_formed(reading: "Reading", env: "Env") -> None:
    """投诉编号 in the policy's pattern, case folded (ts2026110099 -> TS2026110099); a placeholder (/, 无,
    待编号) on a form that may leave it blank is blank with a defect; anything else is refused."""
    fv = reading.fields[reading.kind.number_field]
    pattern = NumberPattern(env.policy.number_pattern)
    if fv.value is None and fv.raw is not None and str(fv.raw).strip() and not fv.spec.required:
        reading.add(defect(fv.spec.label, fv.where, f"投诉编号「{str(fv.raw).strip()}」不是编号，已视为未填写，"
                                                    f"由系统编号；新投诉请留空。"))
    if not fv.value:
        return
    fv.value = next((text for text in (fv.value, fv.value.upper(), fv.value.lower()) if pattern.matches(text)),
                    fv.value)
    if not pattern.matches(fv.value):
        reading.add(error(fv.spec.label, fv.where,
                          f"投诉编号「{fv.value}」格式不对（应形如 {pattern.example()}）。新投诉请留空，由系统编号。"))


def not_in_future(key: str) -> Rule:
    def rule(reading: "Reading", env: "Env") -> None:
        value = reading.value(key)
        if value and value > env.now + CLOCK_SKEW:
            reading.add(error(reading.label(key), reading.where(key),
                              f"{reading.label(key)}「{value:%Y-%m-%d %H:%M}」晚于当前时间"
                              f"（{env.now:%Y-%m-%d %H:%M}），请核对年份与日期。"))
    return rule


# ------------------------------------------------------------------ 附件1 受理记录单
def choose_tier(reading: "Reading", env: "Env") -> None:
    """投诉性质 as one of the policy's tiers, by its labels (ticked boxes or a chosen text); two ticked
    are kept as a tuple for the kind's rule; anything else is a problem listing the policy's tiers. The
    blank forms print the default's boxes: a printed text no tier claims (「非重大投诉」 under a policy
    without 非重大) is matched as itself, so a tier's shorter label inside it (「重大投诉」) is never
    read as ticked."""
    fv = reading.fields["severity"]
    if fv.value is None:
        return
    options = tuple((tier.name, tier.labels) for tier in env.policy.tiers)
    claimed = {label for _, labels in options for label in labels}
    unclaimed = tuple(text for _, texts in SEVERITY_OPTIONS for text in texts if text not in claimed)
    chosen = [tier for tier in ticked_options(str(fv.value), (*options, ("", unclaimed))) if tier]
    if chosen:
        fv.value = chosen[0] if len(chosen) == 1 else tuple(chosen)
        return
    report = error if fv.spec.required == "error" else defect
    reading.add(report(fv.spec.label, fv.where, f"「{fv.value}」未勾选或不是策略中的投诉性质，请勾选或填写其中之一："
                                                f"{'、'.join(env.policy.tier_names)}。"))
    fv.value = None


def _both_ticked(reading: "Reading", env: "Env", joiner: str, kept: str) -> None:
    """Two tiers ticked: the first major one of them (or the first), with a defect naming the one kept
    (「A{joiner}B…同时勾选，已按{chosen}{kept}处理」)."""
    fv = reading.fields["severity"]
    if isinstance(fv.value, tuple):
        chosen = next((tier for tier in fv.value if env.policy.is_major(tier)), fv.value[0])
        reading.add(defect(fv.spec.label, fv.where, f"{joiner.join(fv.value)}{kept}同时勾选，已按{chosen}{kept}处理，"
                                                    f"请只勾选一项。"))
        fv.value = chosen


def _intake_severity(reading: "Reading", env: "Env") -> None:
    fv = reading.fields["severity"]
    rules = reading.value("major_rules")
    _both_ticked(reading, env, "投诉与", "投诉")
    if rules and not env.policy.is_major(fv.value):
        which = "、".join(map(str, rules))
        reading.add(defect(fv.spec.label, fv.where,
                           f"重大情形填了第{which}项，但投诉类别未勾选{env.policy.major_tier}投诉，"
                           f"已按{env.policy.major_tier}投诉处理。"))
        fv.value = env.policy.major_tier
    if fv.value is None:
        fv.value = env.policy.minor_tier


def _intake_channel(reading: "Reading", env: "Env") -> None:
    fv = reading.fields["channel"]
    if not fv.value:
        return
    channel_class, known = env.policy.channel_class(fv.value)
    if not known:
        reading.add(defect(fv.spec.label, fv.where,
                           f"受理渠道「{fv.value}」不在渠道清单中，已按「{channel_class}」计算时限。"
                           f"请填写：{'、'.join(env.policy.channel_names()[:12])} 等。"))
    if not reading.value("required_date") and any(
            limit == REQUIRED_DATE for row in env.policy.deadlines.classes[channel_class].values()
            for limit in row.values()):
        spec = reading.fields["required_date"]
        fallback = env.policy.fallback_class
        reading.add(defect(spec.spec.label, spec.where or fv.where,
                           f"政府/媒体/主管部门批转的投诉须填写要求办结日期（批转单位要求的时间）；"
                           f"未填写要求办结日期，已按「{fallback}」时限计算，请补充。"))


def _intake_unit(reading: "Reading", env: "Env") -> None:
    """承办单位 as written, else found from 投诉对象 by the policy's unit keywords, else a defect."""
    fv = reading.fields["unit"]
    if fv.value:
        return
    fv.value = env.policy.unit_for_target(reading.value("target"))
    if fv.value is None:
        where = fv.where or reading.where("target")
        reading.add(defect(fv.spec.label, where, "未指定承办单位：请填写承办单位，或在 policy.toml 的 "
                                                 "[unit_keywords] 中为该投诉对象补充关键词。"))


INTAKE = FormKind(
    key="intake", case_step="intake", opens_case=True,
    name="受理记录单", title="客户投诉受理记录单", annex="附件1",
    titles=("客户投诉受理记录单", "投诉受理记录单", "投诉受理单"),
    fields=(
        FieldSpec("customer_name", "客户姓名", ("投诉人", "客户名称", "姓名")),
        FieldSpec("address", "客户地址", ("投诉地址", "地址", "用户地址")),
        FieldSpec("phone", "联系方式", ("联系电话", "客户电话", "电话", "手机"), Phone()),
        FieldSpec("target", "投诉对象", ("被投诉对象", "被投诉单位")),
        FieldSpec("number", "投诉编号", ("编号", "受理编号"), ComplaintNumber(), required=None),
        FieldSpec("received_at", "受理时间", ("投诉时间", "受理日期", "来电时间"), DateTime(), "error"),
        FieldSpec("channel", "受理渠道", ("投诉渠道", "渠道", "来源渠道"), required="error"),
        FieldSpec("receiver", "受理人", ("投诉受理人", "接报人")),
        FieldSpec("severity", "投诉类别", ("投诉性质",), SEVERITY),
        FieldSpec("content", "投诉内容", ("投诉事项", "事情经过"), required="error", long=True),
        FieldSpec("demand", "客户要求", ("客户诉求", "诉求"), long=True),
        FieldSpec("unit", "承办单位", ("转办单位", "承办部门"), required=None),
        FieldSpec("major_rules", "重大情形", ("重大投诉情形",), Rules(), required=None),
        FieldSpec("required_date", "要求办结日期", ("要求办结时间", "办结时限"), Date(), required=None),
    ),
    rules=(number_well_formed, not_in_future("received_at"), choose_tier, _intake_severity, _intake_channel,
           unit_in_policy("unit", "defect"), _intake_unit),
    notes=("说明：1．请按投诉管理办法要求时限，将投诉调查处理结果填写在客户投诉调查处理反馈单，向服务管理办公室反馈处理结果；",
           "2．未处理完成的需反馈解决方案。"),
)

# ------------------------------------------------------------------ 附件2 调查处理反馈单
RESPONSIBILITY = Choice((("责任", ("责任投诉", "责任")), ("非责任", ("非责任投诉", "非责任", "无责任"))))
COMPLETION = Choice((("已办结", ("已办结", "已处理完毕", "已完成")), ("未办结", ("未办结", "仅反馈方案", "处理中"))))
PLAN_WORDS = ("未办结", "待办结", "尚未", "计划", "拟于", "将于", "预计")


def _feedback_responsibility(reading: "Reading", env: "Env") -> None:
    fv = reading.fields["responsibility"]
    if isinstance(fv.value, tuple):             # seed 5.3.7: both present -> 责任投诉
        fv.value = "责任"


def _feedback_completion(reading: "Reading", env: "Env") -> None:
    """处理结果 that only gives a plan must carry 承诺办结日期 (it schedules the second callback)."""
    completion, result = reading.fields["completion"], reading.value("result") or ""
    if completion.value is None:
        completion.value = "未办结" if any(word in result for word in PLAN_WORDS) else "已办结"
    promised = reading.fields["promised_date"]
    if completion.value == "未办结" and promised.value is None:
        reading.add(error(promised.spec.label, promised.where or reading.where("result"),
                          "处理结果仅为解决方案（未办结）时须填写承诺办结日期，请补充后重新提交。"))


def _feedback_severity(reading: "Reading", env: "Env") -> None:
    _both_ticked(reading, env, "与", "")


def _unit(key: str, label: str, aliases: tuple[str, ...] = ()) -> FieldSpec:
    return FieldSpec(key, label, aliases, required="error")


FEEDBACK = FormKind(
    key="feedback", case_step="feedback", dated="feedback_date",
    name="调查处理反馈单", title="客户投诉调查处理反馈单", annex="附件2",
    titles=("客户投诉调查处理反馈单", "调查处理反馈单", "客户投诉调查处理反馈"),
    fields=(
        FieldSpec("customer_name", "客户姓名", ("投诉人",), required="error", copy_of="customer_name"),
        FieldSpec("phone", "客户电话", ("联系电话", "联系方式"), Phone(), "error", copy_of="phone"),
        FieldSpec("address", "客户地址", ("投诉地址",), required="error", copy_of="address"),
        FieldSpec("channel", "投诉渠道", ("受理渠道",), required="error", copy_of="channel"),
        FieldSpec("received_at", "投诉时间", ("受理时间",), DateTime(), "error", copy_of="received_at"),
        FieldSpec("target", "投诉对象", (), required="error", copy_of="target"),
        FieldSpec("receiver", "投诉受理人", ("受理人",), required="error", copy_of="receiver"),
        _unit("business", "业务大类"),
        _unit("business_step", "业务环节"),
        FieldSpec("severity", "投诉性质", (), SEVERITY, "error"),
        FieldSpec("responsibility", "投诉类别", (), RESPONSIBILITY, "error"),
        _unit("unit", "责任部门", ("责任单位",)),
        _unit("person", "责任人"),
        FieldSpec("number", "投诉编号", ("编号",), ComplaintNumber(), "error"),
        _unit("investigator", "调查反馈人", ("调查人",)),
        FieldSpec("feedback_date", "反馈日期", ("反馈时间",), DateTime(), "error"),
        FieldSpec("content", "投诉内容", (), required="error", long=True, copy_of="content"),
        FieldSpec("situation", "基本情况", ("调查基本情况",), required="error", long=True),
        FieldSpec("solution", "解决方案", (), required="error", long=True),
        FieldSpec("result", "处理结果", (), required="error", long=True),
        FieldSpec("cause", "投诉原因分析", ("原因分析",), required="error", long=True),
        FieldSpec("prevention", "改进与预防", ("改进与预防措施", "纠正与预防措施"), required="error", long=True),
        FieldSpec("completion", "办结情况", (), COMPLETION, required=None),
        FieldSpec("promised_date", "承诺办结日期", ("承诺办结时间",), Date(), required=None),
        FieldSpec("major_points", "考核分值", ("重大投诉扣分",), Number(), required=None),
        FieldSpec("first_review", "初审意见", (), required=None, long=True),
        FieldSpec("first_signer", "签署人", ("初审签署人",), required=None),
        FieldSpec("final_review", "终审意见", (), required=None, long=True),
        FieldSpec("final_signer", "签署人", ("终审签署人",), required=None),
    ),
    rules=(number_well_formed, _feedback_responsibility, choose_tier, _feedback_severity, _feedback_completion,
           unit_in_policy("unit", "error")),
    notes=("说明：1．该表必须填写完整，不得有空缺项，有补充材料的可作为附件。",
           "2．调查基本情况要求内容完整，要有责任人、时间、地点及事件描述。",
           "3．改进与预防措施旨在纠正问题、避免重复投诉，要求内容切实可行。",
           "4．各单位于接单起1个自然日内反馈至服务管理办公室，服务管理办公室于3个自然日内审核完毕。"),
)

# ------------------------------------------------------------------ forms the regulation requires but does not print
APPROVAL = Choice((("同意", ("同意", "批准")), ("不同意", ("不同意", "不批准"))))
RULING = Choice((("维持", ("维持", "维持原判定")), ("变更", ("变更", "变更原判定"))))
NEW_CLASS = Choice((("责任", ("责任投诉", "责任")), ("非责任", ("非责任投诉", "非责任")),
                    ("重大", ("重大投诉", "重大"))))


def _number(required: str | None = "error") -> FieldSpec:
    return FieldSpec("number", "投诉编号", ("编号",), ComplaintNumber(), required)


def _ruling_needs_class(reading: "Reading", env: "Env") -> None:
    if reading.value("ruling") == "变更" and not reading.value("new_class"):
        fv = reading.fields["new_class"]
        reading.add(error(fv.spec.label, fv.where or reading.where("ruling"),
                          "裁定结果为变更时须勾选变更后类别（责任/非责任/重大）。"))


CALLBACK = FormKind(
    key="callback", case_step="callback", name="回访记录单", title="客户投诉回访记录单", dated="callback_date",
    titles=("客户投诉回访记录单", "投诉回访记录单", "回访记录单"),
    fields=(_number(), FieldSpec("callback_date", "回访日期", ("回访时间",), DateTime(), "error"),
            FieldSpec("caller", "回访人"), FieldSpec("method", "回访方式"),
            FieldSpec("evaluation", "客户评价", ("回访结果", "满意度"), Evaluation(), "error"),
            FieldSpec("notes", "回访内容", ("回访记录",), long=True)),
    rules=(number_well_formed,),
)

EXTENSION = FormKind(
    key="extension", case_step="extension", case_check="extension_in_time",
    name="延期申请单", title="投诉处理延期申请单",
    titles=("投诉处理延期申请单", "延期申请单"),
    fields=(_number(), FieldSpec("unit", "申请单位", ("申请部门",), required="error"),
            FieldSpec("extend_to", "申请延期至", ("延期至", "申请延期至日期"), Date(), "error"),
            FieldSpec("reason", "延期原因", (), required="error", long=True),
            FieldSpec("approval", "审批意见", ("审批结果",), APPROVAL, required=None)),
    rules=(number_well_formed, unit_in_policy("unit", "error")),
)

APPEAL = FormKind(
    key="appeal", case_step="appeal", case_check="appeal_window",
    name="申诉单", title="投诉判定申诉单", dated="appeal_date",
    titles=("投诉判定申诉单", "投诉申诉单", "申诉单"),
    fields=(_number(), FieldSpec("unit", "申诉单位", ("申诉部门",), required="error"),
            FieldSpec("appeal_date", "申诉日期", ("申诉时间",), DateTime(), "error"),
            FieldSpec("reason", "申诉理由", (), required="error", long=True),
            FieldSpec("ruling", "裁定结果", (), RULING, required=None),
            FieldSpec("new_class", "变更后类别", (), NEW_CLASS, required=None)),
    rules=(number_well_formed, unit_in_policy("unit", "error"), _ruling_needs_class),
)

KINDS = (INTAKE, FEEDBACK, CALLBACK, EXTENSION, APPEAL)
KIND_BY_KEY = {kind.key: kind for kind in KINDS}
