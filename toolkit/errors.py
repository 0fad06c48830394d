"""The library's own errors. Messages are the Chinese text a clerk or the office head reads;
the CLI maps them to exit codes in one place (FormRefused -> 1, ConfigError -> 2)."""


class ToolkitError(Exception):
    """Base of every error the library raises on purpose."""


class ConfigError(ToolkitError):
    """The policy, the calendar or the workspace is misconfigured (exit 2)."""


class PolicyError(ConfigError):
    """policy.toml does not parse, names an unknown key, or holds a value of the wrong kind."""


class CalendarError(ConfigError):
    """A date falls in a year the working-day calendar does not know."""


class FormRefused(ToolkitError):
    """A file cannot be accepted; carries located problems."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("；".join(p.message for p in self.problems))


class FutureNotice(ConfigError):
    """A 督办通知单 was asked for a moment later than now: a notice is a real, dated document."""
