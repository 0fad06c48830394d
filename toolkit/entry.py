"""The `tousu` executable. A SIGTERM that arrives while Python is still importing the toolkit (a service
stopped right after it started) ends the program quietly: exit 0 for the watcher, whose stop is a
normal event, 143 for any other command. Each command installs its own handling once it runs."""
import signal
import sys


def _stopped_while_starting(signum, frame):
    raise SystemExit(0 if set(sys.argv[1:3]) & {"watch", "demo"} else 128 + signum)


def _unraisable(unraisable) -> None:
    """An error Python can only report while cleaning up (a zip file closed on a full disk after the
    command already said what failed) is not shown to the clerk as a traceback."""


def main():
    signal.signal(signal.SIGTERM, _stopped_while_starting)
    sys.unraisablehook = _unraisable
    from .cli import main as cli
    cli()
