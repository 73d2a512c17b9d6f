"""The HTML side's shared parts: where the frontend lives, the Jinja2 templates (with `asset()`
for cache-busted static URLs), and the headers every page carries (a strict
Content-Security-Policy: no inline scripts, styles or handlers anywhere)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

FRONTEND_DIR = Path(__file__).resolve().parents[1] / "frontend"
STATIC_DIR = FRONTEND_DIR / "static"
STATIC_URL = "/static"

# 'self' covers same-origin ws:/wss: in current browsers; listed explicitly for older ones.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

templates = Jinja2Templates(directory=FRONTEND_DIR / "templates")


def asset(path: str) -> str:
    """URL of a static file with its modification time as a cache-busting version."""
    try:
        version = int((STATIC_DIR / path).stat().st_mtime)
    except OSError:
        version = 0
    return f"{STATIC_URL}/{path}?v={version}"


templates.env.globals["asset"] = asset

_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

def page_headers() -> dict[str, str]:
    return dict(_HEADERS)
