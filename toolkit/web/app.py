"""The Starlette application of `tousu serve`. Every page reads the workspace through `Reader` (the
journal read-only, never the lock); the only state the server keeps is in memory: the session key (new
at every start, so a restart logs everyone out), the login failures, the figures per journal version.
The handlers run on the event loop one at a time, so the one read-only SQLite connection is never used
by two threads at once.

Access: while no account exists the view is the host's own (a request from a loopback address only;
`tousu serve` refuses other addresses then); once one exists every page needs a login. A unit user sees
its unit's cases with phone numbers and addresses masked, and downloads nothing (the archived forms
carry them in full)."""
import secrets
import sqlite3
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..clock import Clock
from ..errors import ToolkitError, WorkspaceUnavailable, sqlite_reason
from ..period import BadMonth, month_bounds
from . import pages
from .reader import Filters, Reader
from .users import LOCAL, RateLimit, User, authenticate, is_loopback, load_users, users_path

HERE = Path(__file__).parent
SESSION_HOURS = 8
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; "
                                      "frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


class Accounts:
    """The users file, re-read when `tousu user add` changed it while the server runs."""

    def __init__(self, path: Path):
        self.path, self._stamp, self.users = path, None, {}

    def current(self) -> dict[str, User]:
        stamp = self.path.stat().st_mtime_ns if self.path.exists() else None
        if stamp != self._stamp:
            self.users, self._stamp = load_users(self.path), stamp
        return self.users


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = pages.when
    env.filters["percent"] = lambda value: "—" if value is None else f"{value:.2%}"
    env.filters["points"] = lambda value: f"{value:g}"
    return env


def create_app(root: Path, clock: Clock = Clock(), limit: RateLimit | None = None,
               server: bool = False) -> Starlette:
    """`server`: the app is the process's (tousu serve, the bench), not a test's: see Reader._kept."""
    reader = Reader(root, freeze=server)
    accounts = Accounts(users_path(reader.ws))
    limit = limit or RateLimit()
    templates = Jinja2Templates(env=_environment())

    def user_of(request: Request) -> User | None:
        users = accounts.current()
        if not users:           # never anyone else, whatever address the server was started on
            return LOCAL if is_loopback(request.client.host if request.client else None) else None
        name = request.session.get("user")
        user = users.get(name) if isinstance(name, str) else None
        # a password changed by `tousu user add` ends the sessions opened with the old one
        return user if user and request.session.get("key") == user.password[-16:] else None

    def render(request: Request, name: str, context: dict, status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, {"user": request.state.user, **context},
                                          status_code=status, headers=HEADERS)

    def page(handler):
        """A page for a logged-in user; anyone else goes to the login form and comes back."""
        async def endpoint(request: Request) -> Response:
            user = user_of(request)
            if user is None:
                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse("/login?" + urlencode({"next": back}), status_code=303)
            request.state.user = user
            return handler(request, user)
        return endpoint

    def today(request: Request, user: User) -> Response:
        view = pages.today(reader, user, clock.now(), request.query_params.get("unit", ""), _page(request))
        return render(request, "today.html", view)

    def today_json(request: Request, user: User) -> Response:
        return JSONResponse(pages.overdue_json(reader, user, clock.now()), headers=HEADERS)

    def case_list(request: Request, user: User) -> Response:
        query = request.query_params
        filters = Filters(month=_month(query.get("month", ""), ""), unit=query.get("unit", ""),
                          status=query.get("status", ""), severity=query.get("severity", ""),
                          channel=query.get("channel", ""), suspected=query.get("suspected") == "1",
                          q=query.get("q", "").strip(), page=_page(request))
        view = pages.case_list(reader, user, filters, clock.now())
        view["link"] = lambda **changes: "/cases?" + urlencode(
            {k: v for k, v in {**_query(filters), **changes}.items() if v})
        return render(request, "cases.html", view)

    def case(request: Request, user: User) -> Response:
        found = reader.case(request.path_params["number"])
        if not pages.allowed(user, found):           # another unit's case is as absent as a missing one
            raise HTTPException(404)
        return render(request, "case.html", pages.case_detail(reader, user, found, clock.now()))

    def download(request: Request, user: User) -> Response:
        """Only a name listed in the case's own folder: the request never names a path."""
        found = reader.case(request.path_params["number"])
        if not pages.allowed(user, found):
            raise HTTPException(404)
        if not user.office:
            raise HTTPException(403, "原件含客户完整信息，仅服务管理办公室可下载。")
        path = reader.archived_files(found).get(request.path_params["name"])
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, filename=path.name, headers=HEADERS)

    def month(request: Request, user: User) -> Response:
        chosen = _month(request.query_params.get("month", ""), pages.default_month(clock.now()))
        return render(request, "month.html", pages.month(reader, user, chosen, clock.now()))

    def month_json(request: Request, user: User) -> Response:
        chosen = _month(request.query_params.get("month", ""), pages.default_month(clock.now()))
        return JSONResponse(pages.month(reader, user, chosen, clock.now())["summary"], headers=HEADERS)

    async def login(request: Request) -> Response:
        request.state.user = None
        target = _next(request.query_params.get("next", "/today"))
        if request.method == "GET":
            return render(request, "login.html", {"next": target, "error": ""})
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        name, password = form.get("name", "").strip(), form.get("password", "")
        keys = (f"address:{request.client.host if request.client else ''}", f"name:{name}")
        if limit.blocked(*keys):
            return render(request, "login.html", {"next": target, "error": "登录失败次数过多，请 5 分钟后再试。"}, 429)
        user = authenticate(accounts.current(), name, password)
        if user is None:
            limit.failed(*keys)
            return render(request, "login.html", {"next": target, "error": "用户名或密码不正确。"}, 401)
        request.session.clear()
        request.session.update({"user": user.name, "key": user.password[-16:]})
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def home(request: Request) -> Response:
        return RedirectResponse("/today", status_code=303)

    async def unavailable(request: Request, exc: Exception) -> Response:
        """The journal missing (a rebuild swapping it in), damaged or of another version; the users file
        unreadable: said on the page, and the next request tries again."""
        reason = exc if isinstance(exc, ToolkitError) else \
            sqlite_reason(exc) if isinstance(exc, sqlite3.Error) else WorkspaceUnavailable.from_os(exc, "无法读取")
        request.state.user = None
        message = f"工作区暂时无法读取：{str(reason).rstrip('。')}。请稍后刷新。"
        return render(request, "error.html", {"message": message}, 503)

    async def refused(request: Request, exc: HTTPException) -> Response:
        request.state.user = user_of(request)
        message = "未找到该页面或案件（或不属于本单位）。" if exc.status_code == 404 else exc.detail
        return render(request, "error.html", {"message": message}, exc.status_code)

    routes = [Route("/", home), Route("/login", login, methods=["GET", "POST"]),
              Route("/logout", logout, methods=["POST"]),
              Route("/today", page(today)), Route("/api/today", page(today_json)),
              Route("/cases", page(case_list)), Route("/cases/{number}", page(case)),
              Route("/cases/{number}/files/{name}", page(download)),
              Route("/month", page(month)), Route("/api/month", page(month_json)),
              Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    handlers = {404: refused, 403: refused, 400: refused, ToolkitError: unavailable, sqlite3.Error: unavailable,
                OSError: unavailable}
    app = Starlette(routes=routes, exception_handlers=handlers,
                    middleware=[Middleware(SessionMiddleware, secret_key=secrets.token_hex(32),
                                           session_cookie="tousu_session", same_site="strict",
                                           max_age=int(timedelta(hours=SESSION_HOURS).total_seconds()))])
    app.state.reader = reader
    return app


def _page(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) < 10**6 else 1


def _month(text: str, default: str) -> str:
    if not text:
        return default
    try:
        month_bounds(text)
    except BadMonth as exc:
        raise HTTPException(400, str(exc)) from None
    return text


def _next(target: str) -> str:
    """Back to a page of this site only: never an absolute or protocol-relative address."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/today"


def _query(filters: Filters) -> dict:
    return {"month": filters.month, "unit": filters.unit, "status": filters.status, "severity": filters.severity,
            "channel": filters.channel, "suspected": "1" if filters.suspected else "", "q": filters.q}

