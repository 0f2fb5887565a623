"""The stand-in web app: stdlib http.server, pages rendered as small HTML with a little script, data
from the contract database (psycopg). Not a model of the real app's code; only of what a browser sees."""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg

SWITCHES = (
    "login_loop",
    "packages_broken",
    "error_as_empty",
    "messages_broken",
    "share_disabled",
    "campaign_detail_500",
    "admin_list_empty",
)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """What the stand-in keeps in auth.users.encrypted_password (scrypt; GoTrue itself uses bcrypt)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**12, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _check_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, _digest = stored.split("$")
    return secrets.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


@dataclass
class StandIn:
    """A running stand-in: its base URL, its switches (changeable while it runs) and its sessions."""

    dsn: str
    switches: set[str] = field(default_factory=set)
    sessions: dict[str, str] = field(default_factory=dict)  # cookie → user id
    server: ThreadingHTTPServer | None = None
    requests: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(sql, tuple(params)).fetchall()


def serve(dsn: str, switches: Iterable[str] = ()) -> StandIn:
    unknown = set(switches) - set(SWITCHES)
    if unknown:
        raise ValueError(f"unknown switch {sorted(unknown)[0]}")
    app = StandIn(dsn, set(switches))
    handler = type("Handler", (_Handler,), {"app": app})
    app.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    app.server.daemon_threads = True
    threading.Thread(target=app.server.serve_forever, name="standin-app", daemon=True).start()
    return app


_STYLE = """
body{font-family:'NanumGothic','Noto Sans CJK KR',sans-serif;margin:0;background:#fafafa;color:#222}
header{background:#5b2bd6;color:#fff;padding:12px 24px;font-weight:bold}
main{padding:18px 24px} li,tr{margin:4px 0}
button{font-size:15px;padding:6px 14px;margin:4px;border-radius:6px;border:1px solid #5b2bd6;background:#fff}
button[aria-pressed=true]{background:#5b2bd6;color:#fff} button:disabled{opacity:.4}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;margin:8px 0;max-width:560px}
"""


def _page(title: str, body: str, script: str = "", user: str = "") -> bytes:
    who = f"<span data-testid='user-email'>{html.escape(user)}</span>" if user else ""
    return (
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><header>팬 플랫폼 (stand-in) · {html.escape(title)} {who}</header><main>{body}</main>"
        f"<script>{script}</script></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    app: StandIn

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    # --- plumbing ---------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, default=str, ensure_ascii=False).encode(), "application/json")

    def _redirect(self, where: str, cookie: str | None = None) -> None:
        headers = {"Location": where}
        if cookie is not None:
            headers["Set-Cookie"] = cookie
        self._send(302, b"", headers=headers)

    def _user(self) -> tuple[str, str, str] | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        sid = cookie.get("sid")
        uid = self.app.sessions.get(sid.value) if sid else None
        if not uid:
            return None
        rows = self.app.rows(
            "SELECT u.id::text, u.email, p.role FROM auth.users u JOIN public.user_profiles p ON p.id = u.id "
            "WHERE u.id = %s",
            (uid,),
        )
        return rows[0] if rows else None

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length", 0) or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(raw or "{}")
        return {k: v[0] for k, v in parse_qs(raw).items()}

    # --- routes -----------------------------------------------------------------------------
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.app.requests.append(f"GET {path}")
        if path == "/login":
            return self._send(200, _page("로그인", _LOGIN))
        if path == "/favicon.ico":
            return self._send(404, b"")
        user = self._user()
        if user is None:
            if path.startswith("/api/"):
                return self._json(401, {"error": "not logged in"})
            return self._redirect(f"/login?next={path}")
        uid, email, role = user
        if path == "/":
            return self._send(200, _page("홈", _HOME, user=email))
        if path == "/wallet/charge":
            return self._send(200, _page("DT 충전", _CHARGE_BODY, _CHARGE_JS, email))
        if path == "/api/packages":
            if "packages_broken" in self.app.switches:
                return self._json(500, {"error": "upstream timeout"})
            rows = self.app.rows(
                "SELECT sku, name, dt_amount, bonus_dt, price_krw FROM public.dt_packages WHERE is_active "
                "ORDER BY sort_order, price_krw"
            )
            return self._json(200, [dict(zip(("sku", "name", "dt", "bonus", "price"), r, strict=True)) for r in rows])
        if path == "/subscriptions":
            disguise = "true" if "error_as_empty" in self.app.switches else "false"
            return self._send(200, _page("구독", _SUBS_BODY, _SUBS_JS.replace("__DISGUISE__", disguise), email))
        if path == "/api/subscriptions":
            if "error_as_empty" in self.app.switches:
                return self._json(500, {"error": "permission denied for table subscriptions"})
            rows = self.app.rows(
                "SELECT coalesce(p.display_name, p.handle, 'creator'), s.tier, s.current_period_end "
                "FROM public.subscriptions s JOIN public.user_profiles p ON p.id = s.creator_id "
                "WHERE s.fan_id = %s AND s.status IN ('active', 'past_due') ORDER BY s.created_at",
                (uid,),
            )
            return self._json(200, [{"creator": r[0], "tier": r[1], "until": r[2]} for r in rows])
        if path == "/messages":
            return self._send(200, _page("메시지", _CHAT_BODY, _CHAT_JS, email))
        if path == "/api/messages":
            frozen = "messages_broken" in self.app.switches
            # one shared thread (the stand-in's chat room): every direct message of the last day
            rows = self.app.rows(
                "SELECT id::text, body, created_at FROM public.messages "
                "WHERE audience = 'user' AND created_at > now() - interval '1 day' "
                + ("AND created_at < now() - interval '1 hour' " if frozen else "")
                + "ORDER BY created_at DESC LIMIT 50"
            )
            return self._json(200, [{"id": r[0], "body": r[1], "at": r[2]} for r in reversed(rows)])
        if path == "/profile":
            disabled = " disabled" if "share_disabled" in self.app.switches else ""
            body = _PROFILE_BODY.replace("__DISABLED__", disabled)
            return self._send(200, _page("프로필", body, _PROFILE_JS, email))
        if path == "/funding":
            rows = self.app.rows(
                "SELECT id::text, title, raised_dt, goal_dt FROM public.funding_campaigns WHERE status = 'active' "
                "ORDER BY ends_at"
            )
            items = "".join(
                f"<li class='card' data-testid='campaign-item'><a href='/funding/{r[0]}'>{html.escape(r[1])}</a> "
                f"· {r[2]:,} / {r[3]:,} DT</li>"
                for r in rows
            )
            return self._send(200, _page("펀딩", f"<h2>진행 중인 캠페인</h2><ul>{items}</ul>", user=email))
        if path.startswith("/funding/"):
            if "campaign_detail_500" in self.app.switches:
                return self._send(500, b"<h1>500 Internal Server Error</h1>")
            rows = self.app.rows(
                "SELECT title, coalesce(description, ''), raised_dt, goal_dt FROM public.funding_campaigns "
                "WHERE id::text = %s AND status <> 'draft'",
                (path.rsplit("/", 1)[1],),
            )
            if not rows:
                return self._send(404, b"<h1>404</h1>")
            t, d, raised, goal = rows[0]
            body = (
                f"<section class='card' data-testid='campaign-detail'><h2>{html.escape(t)}</h2>"
                f"<p>{html.escape(d)}</p><p>{raised:,} / {goal:,} DT</p><button>후원하기</button></section>"
            )
            return self._send(200, _page("캠페인", body, user=email))
        if path == "/admin/dashboard":
            if role != "admin":
                return self._send(403, _page("403", "<p>관리자 전용</p>"))
            return self._send(200, _page("관리자 대시보드", _ADMIN_BODY, _ADMIN_JS, email))
        if path == "/api/admin/flags":
            if role != "admin":
                return self._json(403, {"error": "forbidden"})
            if "admin_list_empty" in self.app.switches:
                return self._json(200, [])
            rows = self.app.rows("SELECT key, enabled, is_kill_switch FROM public.feature_flags ORDER BY key")
            return self._json(200, [{"key": r[0], "enabled": r[1], "kill": r[2]} for r in rows])
        return self._send(404, _page("404", "<p>없는 페이지</p>"))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        self.app.requests.append(f"POST {path}")
        if path == "/login":
            form = self._form()
            rows = self.app.rows(
                "SELECT id::text, encrypted_password FROM auth.users WHERE email = lower(%s)",
                (form.get("email", "").strip(),),
            )
            if not rows or not _check_password(form.get("password", ""), rows[0][1]):
                body = _LOGIN.replace("<!--error-->", "<p role='alert'>이메일 또는 비밀번호가 올바르지 않습니다</p>")
                return self._send(400, _page("로그인", body))
            sid = secrets.token_urlsafe(16)
            if "login_loop" not in self.app.switches:
                self.app.sessions[sid] = rows[0][0]
            return self._redirect("/", f"sid={sid}; Path=/; HttpOnly; SameSite=Lax")
        if path == "/logout":
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            if cookie.get("sid"):
                self.app.sessions.pop(cookie["sid"].value, None)
            return self._redirect("/login", "sid=; Path=/; Max-Age=0")
        user = self._user()
        if user is None:
            return self._json(401, {"error": "not logged in"})
        if path == "/api/messages":
            body = str(self._form().get("body", ""))[:500]
            uid = user[0]
            rows = self.app.rows(
                "INSERT INTO public.messages (sender_id, audience, recipient_id, body, scheduled_status, sent_at) "
                "VALUES (%s, 'user', %s, %s, 'sent', now()) RETURNING id::text, created_at",
                (uid, uid, body),
            )
            return self._json(201, {"id": rows[0][0], "body": body, "at": rows[0][1]})
        return self._json(404, {"error": "no such route"})


_LOGIN = """
<h2>로그인</h2><!--error-->
<form method='post' action='/login' class='card'>
  <p><label>이메일 <input type='email' name='email' autocomplete='username'></label></p>
  <p><label>비밀번호 <input type='password' name='password' autocomplete='current-password'></label></p>
  <button type='submit'>로그인</button>
</form>"""

_HOME = """
<section data-testid='home'><h2>홈</h2><p>오늘의 크리에이터 소식</p>
<nav><a href='/wallet/charge'>DT 충전</a> · <a href='/subscriptions'>구독</a> · <a href='/messages'>메시지</a> ·
<a href='/profile'>프로필</a> · <a href='/funding'>펀딩</a></nav></section>
<form method='post' action='/logout'><button data-testid='logout' type='submit'>로그아웃</button></form>"""

_CHARGE_BODY = """<h2>DT 충전</h2><div id='packages'><p data-testid='loading'>불러오는 중…</p></div>
<button data-testid='charge-submit' disabled>결제하기</button>"""
_CHARGE_JS = """
fetch('/api/packages').then(r => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
.then(list => {
  const box = document.getElementById('packages'); box.innerHTML = '';
  list.forEach(p => {
    const b = document.createElement('button');
    b.dataset.testid = 'dt-package'; b.setAttribute('aria-pressed', 'false');
    b.textContent = p.name + ' · ' + p.dt + ' DT · ' + p.price.toLocaleString() + '원';
    b.onclick = () => {
      document.querySelectorAll('[data-testid=dt-package]').forEach(x => x.setAttribute('aria-pressed', 'false'));
      b.setAttribute('aria-pressed', 'true');
      document.querySelector('[data-testid=charge-submit]').disabled = false;
    };
    box.appendChild(b);
  });
}).catch(() => { /* the bug the switch shows: the spinner stays */ });"""

_SUBS_BODY = "<h2>구독 중인 크리에이터</h2><div id='subs'><p>불러오는 중…</p></div>"
_SUBS_JS = """
const DISGUISE = __DISGUISE__;
const box = document.getElementById('subs');
const render = (list) => {
  if (!list.length) { box.innerHTML = "<p data-testid='empty-state'>구독 중인 크리에이터가 없습니다</p>"; return; }
  box.innerHTML = list.map(s => "<div class='card' data-testid='subscription-item'>" + s.creator + ' · ' + s.tier
                                 + '</div>').join('');
};
fetch('/api/subscriptions').then(r => {
  if (!r.ok) {
    if (DISGUISE) { render([]); return; }
    box.innerHTML = "<p data-testid='error-state' role='alert'>구독 목록을 불러오지 못했습니다 (HTTP "
                    + r.status + ")</p>";
    return;
  }
  return r.json().then(render);
});"""

_CHAT_BODY = """<h2>채팅</h2><div id='thread' class='card'></div>
<input data-testid='message-input' placeholder='메시지 입력' style='width:360px'>
<button data-testid='message-send'>보내기</button>"""
_CHAT_JS = """
const thread = document.getElementById('thread'); const seen = new Set();
const add = (m) => { if (seen.has(m.id)) return; seen.add(m.id);
  const d = document.createElement('div'); d.dataset.testid = 'message'; d.textContent = m.body;
  thread.appendChild(d); };
const poll = () => fetch('/api/messages').then(r => r.json()).then(l => l.forEach(add)).catch(() => {});
poll(); setInterval(poll, 250);
document.querySelector('[data-testid=message-send]').onclick = () => {
  const input = document.querySelector('[data-testid=message-input]');
  fetch('/api/messages', {method: 'POST', headers: {'Content-Type': 'application/json'},
                          body: JSON.stringify({body: input.value})})
    .then(r => r.json()).then(m => { add(m); input.value = ''; });
};"""

_PROFILE_BODY = """<h2>내 프로필</h2><div class='card'><p>팬 · 가입 2026</p>
<button data-testid='share-button'__DISABLED__>프로필 공유</button>
<p data-testid='share-toast' hidden>링크를 복사했습니다</p></div>"""
_PROFILE_JS = """
document.querySelector('[data-testid=share-button]').onclick = async () => {
  const url = location.origin + '/u/me';
  if (navigator.share) { await navigator.share({title: '프로필', url}); }
  else { await navigator.clipboard.writeText(url); }
  document.querySelector('[data-testid=share-toast]').hidden = false;
};"""

_ADMIN_BODY = """<h2>관리자 대시보드</h2><table class='card'><thead><tr><th>flag</th><th>enabled</th></tr></thead>
<tbody id='flags'></tbody></table><button data-testid='publish-button'>배너 퍼블리시</button>"""
_ADMIN_JS = """
fetch('/api/admin/flags').then(r => r.json()).then(list => {
  document.getElementById('flags').innerHTML = list.map(f => "<tr data-testid='admin-list-item'><td>" + f.key
    + '</td><td>' + f.enabled + '</td></tr>').join('');
});"""
