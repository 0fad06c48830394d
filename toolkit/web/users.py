"""Accounts of the web view: <workspace>/.tousu/users.toml (beside the journal, in the state folder no
clerk edits), written only by `tousu user add`. A password is kept as an scrypt hash with its own salt;
a unit user sees its unit's cases only, an office user every case."""
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
import tomllib
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..files import write_atomically

USERS_FILE = "users.toml"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}       # RFC 7914's interactive parameters: ~16 MiB, ~50 ms
OFFICE = "office"


@dataclass(frozen=True)
class User:
    name: str
    unit: str | None                        # None: an office user (服务管理办公室), sees every case
    password: str = ""                      # "scrypt$n$r$p$salt$hash" (hex)

    @property
    def office(self) -> bool:
        return self.unit is None

    @property
    def role(self) -> str:
        return "服务管理办公室" if self.office else self.unit


# A viewer on the host itself (a loopback address) while no account exists: the office at its own computer.
LOCAL = User("本机", None)


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def users_path(ws) -> Path:
    return ws.state / USERS_FILE


def hash_password(password: str, salt: bytes | None = None, n: int = SCRYPT["n"], r: int = SCRYPT["r"],
                  p: int = SCRYPT["p"]) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        computed = hash_password(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(computed, stored)


# Checked when the name is unknown, so a wrong name costs the same time as a wrong password.
_DECOY = hash_password(secrets.token_hex(8))


def load_users(path: Path) -> dict[str, User]:
    if not path.exists():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return {name: User(name, None if entry["role"] == OFFICE else entry["unit"], entry["password"])
                for name, entry in raw.get("users", {}).items()}
    except (tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"账户文件 {path} 无法读取（{exc}）：请删除后用 tousu user add 重新建立账户。") from None


def _toml(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's (\\", \\\\, \\n, \\uXXXX)."""
    return json.dumps(text, ensure_ascii=False)


def save_users(path: Path, users: dict[str, User]) -> None:
    lines = ["# tousu serve 的账户（tousu user add 写入；密码为 scrypt 散列，请勿手工编辑）", ""]
    for user in sorted(users.values(), key=lambda u: u.name):
        lines += [f"[users.{_toml(user.name)}]", f"role = {_toml(OFFICE if user.office else 'unit')}"]
        if not user.office:
            lines.append(f"unit = {_toml(user.unit)}")
        lines += [f"password = {_toml(user.password)}", ""]
    write_atomically(path, "\n".join(lines).encode("utf-8"))


def add_user(path: Path, name: str, unit: str | None, password: str) -> bool:
    """Add or replace an account; True when it replaced one of the same name."""
    users = load_users(path)
    replaced = name in users
    users[name] = User(name, unit, hash_password(password))
    save_users(path, users)
    return replaced


def authenticate(users: dict[str, User], name: str, password: str) -> User | None:
    user = users.get(name)
    ok = check_password(password, user.password if user else _DECOY)
    return user if ok and user else None


class RateLimit:
    """At most `attempts` failed logins per client address and per account name in `window` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0, clock=time.monotonic):
        self.attempts, self.window, self.clock = attempts, window, clock
        self.failures: dict[str, deque] = defaultdict(deque)

    def _recent(self, key: str) -> deque:
        failures = self.failures[key]
        while failures and failures[0] <= self.clock() - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(key)) >= self.attempts for key in keys)

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self.clock())
