"""Masking of personal data in lists, exports, logs and public pages."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """340***********01X: first 3 and last 3 characters kept."""
    if not value:
        return ""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 6) + value[-3:]


def mask_mobile(value: str | None) -> str:
    """138****1234."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
