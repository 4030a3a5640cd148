"""Billing and plan data read from public notes in the community themes' convention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.nezha.api import (
    Billing,
    Plan,
    Price,
    PublicNote,
    parse_public_note,
)
from custom_components.nezha.api.note import MAX_TEXT, read_date, read_flag, read_price

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "real-samples"
ISSUE_NOTE = {
    "billingDataMod": {
        "startDate": "2024-10-01T00:00:00+08:00",
        "endDate": "2024-11-01T00:00:00+08:00",
        "autoRenewal": "1",
        "cycle": "月",
        "amount": "$3.99",
    },
    "planDataMod": {
        "bandwidth": "30Mbps",
        "trafficVol": "1TB/月",
        "trafficType": "1",
        "IPv4": "1",
        "IPv6": "1",
        "networkRoute": "CN2,GIA",
        "extra": "…",
    },
}
CST = timezone(timedelta(hours=8))


def _note(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_the_issues_example_in_full() -> None:
    """Every part of the convention's example is read."""
    note = parse_public_note(_note(ISSUE_NOTE))
    assert note == PublicNote(
        billing=Billing(
            start=datetime(2024, 10, 1, tzinfo=CST).astimezone(UTC),
            end=datetime(2024, 11, 1, tzinfo=CST).astimezone(UTC),
            never_expires=False,
            auto_renewal=True,
            cycle="月",
            amount="$3.99",
            price=Price(value=3.99, currency="USD"),
        ),
        plan=Plan(
            bandwidth="30Mbps",
            traffic_volume="1TB/月",
            traffic_type="1",
            ipv4=True,
            ipv6=True,
            network_route="CN2,GIA",
            extra="…",
        ),
    )
    assert note.billing is not None
    assert note.billing.end == datetime(2024, 10, 31, 16, tzinfo=UTC)
    assert note.billing.has_expiry


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the real captures are not beside the project")
def test_the_note_a_real_dashboard_stored() -> None:
    """The note exactly as v1.14.14 and v2.3.7 sent it back (JSON inside a string)."""
    for line in ("v1.14.14", "v2.3.7"):
        capture = json.loads((SAMPLES / line / "server_public_note_admin.json").read_text())
        server = next(s for s in capture["body"]["data"] if s.get("public_note"))
        note = parse_public_note(server["public_note"])
        assert note.billing is not None
        assert note.billing.end == datetime(2026, 12, 19, 16, tzinfo=UTC)
        assert note.billing.price == Price(value=3.99, currency="USD")
        assert note.plan == Plan(bandwidth="30Mbps", traffic_volume="1TB/月")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hong Kong, renews monthly",
        "{not json",
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        "{}",
        '{"billing": {"endDate": "2024-11-01"}}',
        '{"billingDataMod": "2024-11-01", "planDataMod": [1]}',
        "{" * 5000 + "}" * 5000,
        '{"billingDataMod": {}}' + " " * 70000,
    ],
)
def test_other_notes_say_nothing(text: str) -> None:
    """Plain text, other JSON, another shape, deep nesting or a huge note: no billing, no plan."""
    assert parse_public_note(text) == PublicNote(billing=None, plan=None)


def test_each_part_is_optional() -> None:
    """Only a plan, or billing with only an amount: the other parts stay empty."""
    plan_only = parse_public_note(_note({"planDataMod": {"bandwidth": "1Gbps"}}))
    assert plan_only.billing is None
    assert plan_only.plan == Plan(bandwidth="1Gbps")
    amount_only = parse_public_note(_note({"billingDataMod": {"amount": "¥30"}}))
    assert amount_only.plan is None
    assert amount_only.billing == Billing(amount="¥30", price=Price(value=30.0, currency="CNY"))
    assert not amount_only.billing.has_expiry
    # A part of the wrong type is dropped, the other kept.
    mixed = parse_public_note(_note({"billingDataMod": None, "planDataMod": {"trafficVol": 500}}))
    assert mixed == PublicNote(billing=None, plan=Plan(traffic_volume="500"))


@pytest.mark.parametrize(
    ("end", "expected", "never"),
    [
        ("0000-00-00T23:59:59+08:00", None, True),
        ("0000-00-00", None, True),
        ("2024-11-01", datetime(2024, 11, 1, tzinfo=UTC), False),
        ("2024-11-01T00:00:00Z", datetime(2024, 11, 1, tzinfo=UTC), False),
        ("2024-11-01 08:30:00", datetime(2024, 11, 1, 8, 30, tzinfo=UTC), False),
        (
            "2024-11-01T00:00:00.123456789+08:00",
            datetime(2024, 10, 31, 16, 0, 0, 123456, UTC),
            False,
        ),
        ("2024-11-01T00:00:00.123+08:00", datetime(2024, 10, 31, 16, 0, 0, 123000, UTC), False),
        ("next month", None, False),
        ("", None, False),
        (1730390400, None, False),
        (None, None, False),
        # Arabic-Indic digits: not a date anyone types here.
        ("\u0662\u0660\u0662\u0664-\u0661\u0661-\u0660\u0661", None, False),
    ],
)
def test_end_dates(end: Any, expected: datetime | None, never: bool) -> None:
    """RFC 3339 or a plain date (UTC without an offset); 0000-00-00… never expires."""
    billing = parse_public_note(_note({"billingDataMod": {"endDate": end}})).billing
    assert billing is not None
    assert billing.end == expected
    assert billing.never_expires is never
    assert billing.has_expiry is (expected is not None or never)


def test_dates_at_the_calendars_edge() -> None:
    """A date that leaves the calendar when converted to UTC is not read rather than raising."""
    assert read_date("0001-01-01T00:00:00+08:00") is None
    assert read_date("9999-12-31T23:59:59-01:00") is None
    assert read_date("9999-12-31T23:59:59Z") == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        (1, True),
        (True, True),
        ("true", True),
        (" Yes ", True),
        ("0", False),
        (0, False),
        (False, False),
        ("false", False),
        ("", None),
        (2, None),
        (1.0, None),
        ("maybe", None),
        (None, None),
        ([1], None),
    ],
)
def test_flags(value: Any, expected: bool | None) -> None:
    """Strings, numbers or booleans; anything else is not guessed."""
    assert read_flag(value) is expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("$3.99", Price(value=3.99, currency="USD")),
        ("US$ 5", Price(value=5.0, currency="USD")),
        ("HK$50", Price(value=50.0, currency="HKD")),
        ("¥30", Price(value=30.0, currency="CNY")),
        ("￥30", Price(value=30.0, currency="CNY")),
        ("30元", Price(value=30.0, currency="CNY")),
        ("30 RMB", Price(value=30.0, currency="CNY")),
        ("CNY 1,299.00", Price(value=1299.0, currency="CNY")),
        ("30rmb/月", Price(value=30.0, currency="CNY")),
        ("€4,50", Price(value=4.5, currency="EUR")),
        ("£12", Price(value=12.0, currency="GBP")),
        ("5 EUR", Price(value=5.0, currency="EUR")),
        ("500 JPY", Price(value=500.0, currency="JPY")),
        ("JP¥500", Price(value=500.0, currency="JPY")),
        ("500円", Price(value=500.0, currency="JPY")),
        ("10 美元", Price(value=10.0, currency="USD")),
        ("100港币", Price(value=100.0, currency="HKD")),
        ("$\uff10.\uff15", Price(value=0.5, currency="USD")),
        ("3.99", None),
        ("free", None),
        ("免费", None),
        ("$3.99 + $1", None),
        ("$5 or €5", None),
        ("1.2.3 USD", None),
        ("ABC 5", None),
        ("9" * 400 + " USD", None),
    ],
)
def test_prices(amount: str, expected: Price | None) -> None:
    """One figure and one currency are read; a bare figure or two of anything are not.

    Full-width forms (common in Chinese input) read as their ASCII ones.
    """
    assert read_price(amount) == expected


def test_unreadable_amount_is_kept_as_written() -> None:
    """The amount as written stays, for the user to read; a number amount is text too."""
    billing = parse_public_note(_note({"billingDataMod": {"amount": "免费"}})).billing
    assert billing == Billing(amount="免费", price=None)
    numeric = parse_public_note(_note({"billingDataMod": {"amount": 3.99}})).billing
    assert numeric == Billing(amount="3.99", price=None)


def test_texts_are_cut_to_what_a_state_holds() -> None:
    """Home Assistant refuses states over 255 characters."""
    plan = parse_public_note(_note({"planDataMod": {"extra": "x" * 1000, "bandwidth": " 1G "}}))
    assert plan.plan is not None
    assert plan.plan.extra == "x" * MAX_TEXT
    assert plan.plan.bandwidth == "1G"


def test_same_note_same_model() -> None:
    """Each refresh hands over the same notes: they are read once."""
    text = _note(ISSUE_NOTE)
    assert parse_public_note(text) is parse_public_note(text)
