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

from ..errors import BadArgument, ConfigError
from ..files import write_atomically
from ..results import Result

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


MIN_PASSWORD = 8


@dataclass
class UserAdded(Result):
    user: User
    replaced: bool                  # a user of that name had another password
    file: str                       # the users file, relative to the workspace

    def to_json(self) -> dict:
        return {"user": self.user.name, "unit": self.user.unit, "office": self.user.office,
                "replaced": self.replaced, "file": self.file}

    def lines(self) -> list[str]:
        return [f"{'已重设密码' if self.replaced else '已建立账户'}：{self.user.name}（{self.user.role}）；"
                f"账户文件 {self.file}"]


def add_user(ws, name: str, unit: str | None, password: str) -> UserAdded:
    """Add an account (`unit` None: an office user), or set a new password for the one of that name."""
    name = name.strip()
    if unit is not None and unit not in ws.policy.units:
        raise BadArgument(f"「{unit}」不是策略中的单位；可选：{'、'.join(ws.policy.units)}。")
    if not name or len(password) < MIN_PASSWORD:
        raise BadArgument(f"用户名不能为空，密码至少 {MIN_PASSWORD} 个字符。")
    path = users_path(ws)
    users = load_users(path)
    replaced = name in users
    users[name] = User(name, unit, hash_password(password))
    save_users(path, users)
    return UserAdded(users[name], replaced, ws.relative(path))


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
