"""Response headers every page and API answer carries, and the cookie settings behind TLS.

The Content-Security-Policy allows scripts only from this site's own files (no inline
script, no ``eval``), connections only back to this site, and no framing. Inline styles are
allowed because server-rendered SVG charts carry style attributes; scripts are what matter.
Behind TLS (``TUIYOU_SECURE_COOKIES=1``) the session cookie is ``Secure`` and HSTS is sent;
behind a reverse proxy ``TUIYOU_PROXY_HOPS=N`` trusts N ``X-Forwarded-*`` hops (werkzeug's
ProxyFix), so addresses (login limits) and schemes are the client's.
"""
from __future__ import annotations

import os

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def settings_from_environment() -> dict:
    """Cookie and proxy settings read from the environment (defaults: plain HTTP, no proxy)."""
    secure = os.environ.get("TUIYOU_SECURE_COOKIES", "") in ("1", "true", "yes")
    return {"SESSION_COOKIE_SECURE": secure, "PROXY_HOPS": int(os.environ.get("TUIYOU_PROXY_HOPS", "0") or 0)}


def init_app(app: Flask) -> None:
    """Add the security headers to every response; trust the configured proxy hops."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    @app.after_request
    def _security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "application/json":  # tokens and scores never sit in a cache
            response.headers.setdefault("Cache-Control", "no-store")
        return response
