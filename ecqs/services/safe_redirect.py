"""Where the app may send a browser back to: a path on this site, nothing else.

Browsers and werkzeug "repair" what they receive: they drop tabs and newlines, read a backslash
as a slash and `///` as `//`. A target is therefore normalised the way a browser would read
it, parsed with urllib.parse, and accepted only as a path with no scheme and no host."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import request

# Characters browsers strip from anywhere in a URL before parsing it (WHATWG URL: tab, LF, CR).
# Leading spaces and controls they trim as well; a target must then start with "/", so such a
# target is refused anyway.
_STRIPPED = re.compile(r"[\t\n\r]")


def _looks_like_another_site(value: str) -> bool:
    normal = _STRIPPED.sub("", value).replace("\\", "/")
    if not normal.startswith("/") or normal.startswith("//"):
        return True
    parts = urlsplit(normal)
    return bool(parts.scheme or parts.netloc)


def is_safe_target(target: str | None) -> bool:
    """True for a local path such as `/admin/?page=2`; False for anything a browser could
    take to another site (`//x`, `/\\x`, `/%09/x`, `https:x`, `javascript:`…), also once
    percent-decoded (a target may be decoded again by a proxy or a second redirect)."""
    if not target or not isinstance(target, str) or len(target) > 2048:
        return False
    value = target
    for _ in range(3):
        if _looks_like_another_site(value):
            return False
        decoded = unquote(value)
        if decoded == value:
            return True
        value = decoded
    return False  # still encoded after three rounds: no honest link looks like that


def safe_target(target: str | None, fallback: str) -> str:
    """`target` if it is a local path, otherwise `fallback`."""
    return target if is_safe_target(target) else fallback


def safe_redirect_target(param_name: str = "url") -> str | None:
    """Flask-Admin's get_redirect_target, with our check: the request's `param_name` value if
    it is a local path, else None."""
    target = request.values.get(param_name)
    return target if is_safe_target(target) else None
