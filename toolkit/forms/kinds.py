"""The forms, declared as data: title, fields (label, aliases, value type, what a blank costs),
and the kind's own rules. A new form kind is a declaration here, never a new parser."""
import difflib
from dataclasses import dataclass

from ..numbering import NumberPattern
from ..problems import defect, error
from .values import SEVERITY_OPTIONS, Choice, Date, DateTime, Phone, Rules, Text

SEVERITY = Choice(SEVERITY_OPTIONS)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str                      # as printed on the annex; used in every message
    aliases: tuple = ()
    type: object = Text()
    required: str | None = "defect"  # blank costs: "error" refuses the form, "defect" is counted, None free
    long: bool = False              # free text that takes a whole row on the printed form

    @property
    def labels(self) -> tuple:
        return (self.label,) + self.aliases


@dataclass(frozen=True)
class FormKind:
    key: str                        # JSON "form"
    name: str                       # short name in archived file names: <编号>-<name>-v<N>
    title: str                      # the annex title
    titles: tuple                   # texts that recognise it in the headings
    fields: tuple
    rules: tuple = ()
    number_field: str = "number"
    notes: tuple = ()               # the 说明 lines printed under the annex table
    annex: str = ""                 # "附件1" when the regulation prints the form

    def spec(self, key: str) -> FieldSpec:
        return next(f for f in self.fields if f.key == key)


# ------------------------------------------------------------------ shared rules
def suggest(value: str, choices) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.3)
    return f"，是否应为「{close[0]}」？" if close else "。"


def unit_must_be_known(key: str):
    def rule(reading, env):
        value = reading.value(key)
        if value and value not in env.policy.units:
            reading.add(defect(reading.label(key), reading.where(key),
                               f"「{value}」不是策略中的责任单位{suggest(value, env.policy.units)}"
                               f"可选：{'、'.join(env.policy.units)}"))
    return rule


def number_well_formed(reading, env):
    fv = reading.fields[reading.kind.number_field]
    if fv.value and not NumberPattern(env.policy.number_pattern).matches(fv.value):
        reading.add(error(fv.spec.label, fv.where,
                          f"投诉编号「{fv.value}」格式不对（应形如 {NumberPattern(env.policy.number_pattern).example()}）。"
                          f"新投诉请留空，由系统编号。"))


def not_in_future(key: str):
    def rule(reading, env):
        value = reading.value(key)
        if value and value > env.now:
            reading.add(error(reading.label(key), reading.where(key),
                              f"{reading.label(key)}「{value:%Y-%m-%d %H:%M}」晚于当前时间"
                              f"（{env.now:%Y-%m-%d %H:%M}），请核对年份与日期。"))
    return rule


# ------------------------------------------------------------------ 附件1 受理记录单
def _intake_severity(reading, env):
    fv = reading.fields["severity"]
    rules = reading.value("major_rules")
    if isinstance(fv.value, tuple):
        reading.add(defect(fv.spec.label, fv.where, "重大投诉与非重大投诉同时勾选，已按重大投诉处理，请只勾选一项。"))
        fv.value = "重大"
    if rules and fv.value != "重大":
        reading.add(defect(fv.spec.label, fv.where,
                           f"重大情形填了第{'、'.join(map(str, rules))}项，但投诉类别未勾选重大投诉，已按重大投诉处理。"))
        fv.value = "重大"
    if fv.value is None:
        fv.value = "非重大"


def _intake_channel(reading, env):
    fv = reading.fields["channel"]
    if not fv.value:
        return
    channel_class, known = env.policy.channel_class(fv.value)
    if not known:
        reading.add(defect(fv.spec.label, fv.where,
                           f"受理渠道「{fv.value}」不在渠道清单中，已按「{channel_class}」计算时限。"
                           f"请填写：{'、'.join(env.policy.channel_names()[:12])} 等。"))
    if env.policy.limit(channel_class, "重大", "investigation") == "要求办结日期" \
            and not reading.value("required_date"):
        spec = reading.fields["required_date"]
        reading.add(defect(spec.spec.label, spec.where or fv.where,
                           "政府/媒体/主管部门批转的投诉须填写要求办结日期（批转单位要求的时间），"
                           "未填写则无法计算调查与处理时限，请补充。"))


INTAKE = FormKind(
    key="intake", name="受理记录单", title="客户投诉受理记录单", annex="附件1",
    titles=("客户投诉受理记录单", "投诉受理记录单", "投诉受理单"),
    fields=(
        FieldSpec("customer_name", "客户姓名", ("投诉人", "客户名称", "姓名")),
        FieldSpec("address", "客户地址", ("投诉地址", "地址", "用户地址")),
        FieldSpec("phone", "联系方式", ("联系电话", "客户电话", "电话", "手机"), Phone()),
        FieldSpec("target", "投诉对象", ("被投诉对象", "被投诉单位")),
        FieldSpec("number", "投诉编号", ("编号", "受理编号"), required=None),
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
    rules=(number_well_formed, not_in_future("received_at"), _intake_severity, _intake_channel,
           unit_must_be_known("unit")),
    notes=("说明：1．请按投诉管理办法要求时限，将投诉调查处理结果填写在客户投诉调查处理反馈单，向服务管理办公室反馈处理结果；",
           "2．未处理完成的需反馈解决方案。"),
)

KINDS = (INTAKE,)
