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


def mask_email(value: str | None) -> str:
    """t***@casei.org.cn: the first character of the local part kept."""
    if not value:
        return ""
    local, at, domain = value.partition("@")
    return (local[:1] + "***" + at + domain) if at else mask_bank_account(value)


def mask_bank_account(value: str | None) -> str:
    """************3456: the last 4 characters kept."""
    if not value:
        return ""
    return "*" * max(len(value) - 4, 0) + value[-4:] if len(value) > 4 else "*" * len(value)


# Personal data by the column names that hold it (audit trail, logs): name suffix -> mask.
PERSONAL_SUFFIXES = (
    ("id_number", mask_id_number),
    ("mobile", mask_mobile),
    ("email", mask_email),
    ("bank_account", mask_bank_account),
)


def mask_field(name: str, value: str | None) -> str:
    """`value` of column `name` as the audit trail may keep it: masked when personal."""
    for suffix, mask in PERSONAL_SUFFIXES:
        if name.endswith(suffix):
            return mask(value)
    return "" if value is None else value
