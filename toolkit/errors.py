"""The library's own errors. Messages are the Chinese text a clerk or the office head reads;
the CLI maps them to exit codes in one place (FormRefused -> 1, ConfigError and
WorkspaceUnavailable -> 2)."""
import errno


class ToolkitError(Exception):
    """Base of every error the library raises on purpose."""


class ConfigError(ToolkitError):
    """The policy, the calendar or the workspace is misconfigured (exit 2)."""


class PolicyError(ConfigError):
    """policy.toml does not parse, names an unknown key, or holds a value of the wrong kind."""


class CalendarError(ConfigError):
    """A date falls in a year the working-day calendar does not know."""


class BadArgument(ToolkitError):
    """A value typed on the command line (a date, a time) that cannot be understood (exit 2)."""


class FormRefused(ToolkitError):
    """A file cannot be accepted; carries located problems."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("；".join(p.message for p in self.problems))


class FileUnreadable(ToolkitError):
    """The submitted file itself cannot be read (permissions, held open elsewhere, vanished)."""


OS_FIXES = {
    errno.ENOSPC: "磁盘已满，请清理磁盘空间后重试",
    errno.EDQUOT: "磁盘配额已满，请清理空间后重试",
    errno.EACCES: "没有权限，请检查该路径的读写权限（运行 tousu 的账户须能读写工作区）",
    errno.EPERM: "操作不被允许，请检查该路径的权限，或文件是否被其他程序（如 Excel）占用",
    errno.EROFS: "该位置是只读的，请检查共享或磁盘是否以只读方式挂载",
    errno.ENOENT: "路径不存在，请检查工作区路径与共享是否可用",
    errno.EIO: "读写出错，请检查磁盘或网络共享是否正常",
    errno.ENOTDIR: "路径中有一段不是文件夹，请检查工作区路径",
    errno.EISDIR: "该路径是文件夹而不是文件",
    errno.EBUSY: "文件正被其他程序占用，请关闭后重试",
    errno.ETXTBSY: "文件正被其他程序占用，请关闭后重试",
    errno.EEXIST: "同名文件已存在",
    errno.ENAMETOOLONG: "文件名或路径过长，请缩短后重试",
    errno.EXDEV: "不能在不同磁盘之间直接移动，请把工作区放在同一磁盘上",
    errno.ENOTEMPTY: "文件夹不是空的",
    errno.EMFILE: "打开的文件过多，请稍后重试",
}
SQLITE_FIXES = (
    ("disk is full", "磁盘已满，请清理磁盘空间后重试"),
    ("disk I/O error", "磁盘读写出错，请检查磁盘或网络共享（日志必须放在本机磁盘上）"),
    ("database is locked", "日志正被其他程序锁定，请稍后重试"),
    ("unable to open", "无法打开日志文件，请检查路径与权限"),
    ("readonly", "日志文件是只读的，请检查权限"),
    ("malformed", "日志已损坏，请运行 tousu ledger rebuild"),
    ("not a database", "日志已损坏，请运行 tousu ledger rebuild"),
)


def os_reason(exc: OSError) -> str:
    """What an operating-system error means, in Chinese (never the system's English text)."""
    return OS_FIXES.get(exc.errno, f"系统错误（错误码 {exc.errno}）")


def sqlite_reason(exc: Exception) -> str:
    """What a SQLite error means, in Chinese."""
    text = str(exc)
    return next((fix for key, fix in SQLITE_FIXES if key in text), "日志数据库出错，请检查磁盘空间与权限；"
                                                                     "日志损坏时运行 tousu ledger rebuild")


class WorkspaceUnavailable(ToolkitError):
    """The workspace cannot be written or read right now (disk full, permissions, a vanished share, a
    busy lock, a damaged journal that cannot be rebuilt): nothing the form did; retry later (exit 2)."""

    @classmethod
    def from_os(cls, exc: OSError, what: str) -> "WorkspaceUnavailable":
        where = exc.filename or ""
        fix = os_reason(exc)
        return cls(f"{what}{'「' + str(where) + '」' if where else ''}：{fix}。")


class FutureNotice(ConfigError):
    """A 督办通知单 was asked for a moment later than now: a notice is a real, dated document."""
