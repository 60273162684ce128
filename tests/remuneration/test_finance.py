"""Amounts for finance: grouped by thousands with the currency, and major units for CSV."""

from __future__ import annotations

import pytest

from sostenuto.remuneration import format_amount, major_units, party_label, statement_csv_major


@pytest.mark.parametrize(
    ("amount", "currency", "shown", "major"),
    [
        (123_456_789, "EUR", "1,234,567.89 EUR", "1234567.89"),
        (-123_456_789, "EUR", "-1,234,567.89 EUR", "-1234567.89"),
        (5, "EUR", "0.05 EUR", "0.05"),
        (0, "SEK", "0.00 SEK", "0.00"),
        (1_234_567, "JPY", "1,234,567 JPY", "1234567"),
        (1_234_567, "BHD", "1,234.567 BHD", "1234.567"),
    ],
)
def test_amounts_are_exact_in_both_forms(
    amount: int, currency: str, shown: str, major: str
) -> None:
    assert format_amount(amount, currency) == shown
    assert major_units(amount, currency) == major


def test_the_party_is_named_with_its_kind() -> None:
    assert party_label({"kind": "cmo", "id": 3, "name": "AIE"}) == "AIE (CMO)"
    assert party_label({"kind": "performer", "id": 7, "name": None}) == "performer 7 (performer)"


def test_the_csv_has_titles_and_major_units() -> None:
    document = {
        "lines": [
            {"isrc": "ESA7Q1900101", "currency": "EUR", "net_minor": 117_578, "model_id": -1},
            {"isrc": "ESA7Q1900199", "currency": "JPY", "net_minor": 5, "model_id": 2},
        ]
    }
    text = statement_csv_major(document, {"ESA7Q1900101": "Marea baja"})
    assert text.splitlines() == [
        "isrc,title,currency,net,model_id",
        "ESA7Q1900101,Marea baja,EUR,1175.78,",
        "ESA7Q1900199,,JPY,5,2",
    ]
