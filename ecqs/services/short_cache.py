"""A few seconds' memory, per worker process, for what every page of a big grid would otherwise
recompute: the options of its filters (catalogue items and kinds, the divisions of the user's
own ledger) and the planner's estimated total of a grid too big to count. Neither is a rule or a
permission: the key always carries the scope it was computed for (the user or the organisation),
and a value may be at most GRID_CACHE_SECONDS old (0 turns the cache off). Exact counts and the
rows themselves are never cached.

cachetools' TTLCache holds the values; one lock per cache, as the web server may run threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import TTLCache
from flask import current_app

MAX_ENTRIES = 2048  # per cache: a worker serves a few hundred users' scopes at most
_caches: dict[str, tuple[TTLCache, threading.Lock]] = {}
_registry_lock = threading.Lock()


def _cache(name: str, seconds: int) -> tuple[TTLCache, threading.Lock]:
    entry = _caches.get(name)
    if entry is None or entry[0].ttl != seconds:
        with _registry_lock:
            entry = _caches.get(name)
            if entry is None or entry[0].ttl != seconds:
                entry = (TTLCache(MAX_ENTRIES, seconds), threading.Lock())
                _caches[name] = entry
    return entry


def _seconds() -> int:
    return int(current_app.config.get("GRID_CACHE_SECONDS", 0) or 0)


def lookup(name: str, key: Hashable) -> Any:
    """The value stored for `key` in the last GRID_CACHE_SECONDS, or None."""
    seconds = _seconds()
    if seconds <= 0:
        return None
    cache, lock = _cache(name, seconds)
    with lock:
        return cache.get(key)


def store(name: str, key: Hashable, value: Any) -> None:
    seconds = _seconds()
    if seconds > 0:
        cache, lock = _cache(name, seconds)
        with lock:
            cache[key] = value


def remember(name: str, key: Hashable, compute: Callable[[], Any]) -> Any:
    """`compute()`, or its value for `key` from the last GRID_CACHE_SECONDS in this process."""
    value = lookup(name, key)
    if value is None:
        value = compute()
        store(name, key, value)
    return value


def clear() -> None:
    """Forget everything (tests; after a catalogue import in this process)."""
    with _registry_lock:
        for cache, lock in _caches.values():
            with lock:
                cache.clear()
