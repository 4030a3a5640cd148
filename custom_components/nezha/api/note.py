"""Billing and plan data from a server's public note, in the community themes' convention.

The dashboard's "server status" theme (nezha PR #425), nezha-dash and others read JSON that
users write into each server's *public note*::

    {"billingDataMod": {"startDate": "2024-10-01T00:00:00+08:00",
                        "endDate": "2024-11-01T00:00:00+08:00", "autoRenewal": "1",
                        "cycle": "月", "amount": "$3.99"},
     "planDataMod": {"bandwidth": "30Mbps", "trafficVol": "1TB/月", "trafficType": "1",
                     "IPv4": "1", "IPv6": "1", "networkRoute": "CN2,GIA", "extra": "…"}}

Every part is optional and hand-written, so this reader never raises: a note that is not JSON,
or JSON of another shape, reads as an empty ``PublicNote``; a part that cannot be read is left
at its empty value. Flags may be strings, numbers or booleans; dates RFC 3339 or
``YYYY-MM-DD`` (read as UTC when no offset is given); an ``endDate`` starting with
``0000-00-00`` means the server never expires.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from math import isfinite
import re
from typing import Any, Final
import unicodedata

import orjson

from .models import Billing, Plan, Price, PublicNote

__all__ = ["parse_public_note", "read_price"]

# Home Assistant keeps at most 255 characters of a state.
MAX_TEXT: Final = 255
# A note is typed by hand in a text box: anything much longer is not a billing note.
MAX_NOTE: Final = 65536
_NEVER: Final = "0000-00-00"
_EMPTY: Final = PublicNote()

_TRUE: Final = frozenset({"1", "true", "yes", "on", "y", "是"})
_FALSE: Final = frozenset({"0", "false", "no", "off", "n", "否"})

# Symbols and words of currencies, longest first so that "HK$" wins over "$" and "日元" over
# "元". "¥" is read as CNY, not JPY: Nezha's users are mostly Chinese and the Chinese themes
# write "¥" for renminbi; yen is written "JPY", "円", "日元" or "JP¥".
_CURRENCY_SIGNS: Final = tuple(
    sorted(
        {
            "US$": "USD",
            "HK$": "HKD",
            "NT$": "TWD",
            "CA$": "CAD",
            "C$": "CAD",
            "AU$": "AUD",
            "A$": "AUD",
            "SG$": "SGD",
            "S$": "SGD",
            "NZ$": "NZD",
            "JP¥": "JPY",
            "CN¥": "CNY",
            "$": "USD",
            "¥": "CNY",
            "元": "CNY",
            "块": "CNY",
            "人民币": "CNY",
            "美元": "USD",
            "美金": "USD",
            "港币": "HKD",
            "港元": "HKD",
            "新台币": "TWD",
            "欧元": "EUR",
            "英镑": "GBP",
            "日元": "JPY",
            "円": "JPY",
            "韩元": "KRW",
            "卢布": "RUB",
            "€": "EUR",
            "£": "GBP",
            "₩": "KRW",
            "₹": "INR",
            "₽": "RUB",
            "₺": "TRY",
            "₫": "VND",
            "฿": "THB",
            "₱": "PHP",
        }.items(),
        key=lambda item: -len(item[0]),
    )
)
# ISO 4217 codes written as such ("5 EUR", "CNY 30"); RMB is the usual name of CNY.
_ISO_CODES: Final = frozenset(
    {
        *("USD", "CNY", "EUR", "GBP", "JPY", "HKD", "TWD", "KRW", "SGD", "AUD", "CAD"),
        *("NZD", "CHF", "RUB", "INR", "TRY", "VND", "THB", "PHP", "MYR", "IDR", "BRL"),
        *("MXN", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "UAH", "ZAR", "AED", "ILS"),
        *("SAR", "ARS", "CLP", "KZT", "MOP"),
    }
)
_ISO_ALIASES: Final = {"RMB": "CNY"}
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_LETTERS = re.compile(r"(?<![A-Z])[A-Z]{3}(?![A-Z])")


def _text(value: Any) -> str:
    """A hand-written value as text (numbers too), cut to what a state can hold."""
    if type(value) is str:
        return value.strip()[:MAX_TEXT]
    if type(value) is int or (type(value) is float and isfinite(value)):
        return str(value)
    return ""


def read_flag(value: Any) -> bool | None:
    """Read a flag: "1", 1, true, "yes" → True; "0", 0, false, "no" → False; else None."""
    if type(value) is bool:
        return value
    if type(value) is int:
        return value != 0 if value in (0, 1) else None
    if type(value) is str:
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def read_date(value: Any) -> datetime | None:
    """An RFC 3339 time or a ``YYYY-MM-DD`` date (UTC when no offset is given)."""
    if type(value) is not str or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if not text.isascii():
        return None
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError, ValueError:
        return None


def _number(text: str) -> float | None:
    """A figure as people write it: "3.99", "1,299.00", "3,99"."""
    if "," in text and "." not in text:
        head, _, tail = text.rpartition(",")
        text = f"{head.replace(',', '')}.{tail}" if len(tail) <= 2 else text.replace(",", "")
    else:
        text = text.replace(",", "")
    if text.count(".") > 1:
        return None
    value = float(text)
    return value if isfinite(value) else None


def read_price(amount: str) -> Price | None:
    """The figure and ISO currency of an amount; None unless both are plain.

    One figure and one currency (a symbol, a Chinese unit or an ISO code) are needed: a bare
    figure, two figures or two currencies are not guessed at.
    """
    text = unicodedata.normalize("NFKC", amount).strip()
    numbers = _NUMBER.findall(text)
    if len(numbers) != 1 or len(text) > MAX_TEXT:
        return None
    rest = text.replace(numbers[0], " ", 1)
    currencies: set[str] = set()
    for sign, code in _CURRENCY_SIGNS:
        if sign in rest:
            currencies.add(code)
            rest = rest.replace(sign, " ")
    for letters in _LETTERS.findall(rest.upper()):
        code = _ISO_ALIASES.get(letters, letters)
        if code in _ISO_CODES:
            currencies.add(code)
    if len(currencies) != 1:
        return None
    value = _number(numbers[0])
    if value is None:
        return None
    return Price(value=value, currency=currencies.pop())


def _billing(obj: dict[str, Any]) -> Billing:
    end_text = obj.get("endDate")
    never = type(end_text) is str and end_text.strip().startswith(_NEVER)
    amount = _text(obj.get("amount"))
    return Billing(
        start=read_date(obj.get("startDate")),
        end=None if never else read_date(end_text),
        never_expires=never,
        auto_renewal=read_flag(obj.get("autoRenewal")),
        cycle=_text(obj.get("cycle")),
        amount=amount,
        price=read_price(amount) if amount else None,
    )


def _plan(obj: dict[str, Any]) -> Plan:
    return Plan(
        bandwidth=_text(obj.get("bandwidth")),
        traffic_volume=_text(obj.get("trafficVol")),
        traffic_type=_text(obj.get("trafficType")),
        ipv4=read_flag(obj.get("IPv4")),
        ipv6=read_flag(obj.get("IPv6")),
        network_route=_text(obj.get("networkRoute")),
        extra=_text(obj.get("extra")),
    )


@lru_cache(maxsize=4096)
def parse_public_note(note: str) -> PublicNote:
    """What a public note says about billing and plan; empty for anything else.

    Cached by the note's text: every refresh hands over the same notes again.
    """
    if not note or len(note) > MAX_NOTE or not note.lstrip().startswith("{"):
        return _EMPTY
    try:
        data = orjson.loads(note)
    except orjson.JSONDecodeError:
        return _EMPTY
    # A JSON text starting with "{" is an object.
    billing = data.get("billingDataMod")
    plan = data.get("planDataMod")
    return PublicNote(
        billing=_billing(billing) if type(billing) is dict else None,
        plan=_plan(plan) if type(plan) is dict else None,
    )
