"""Where a party's money came from, summed over its statements, for the pages' charts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any


def money_by_source(documents: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """Per currency, the net minor units by source, largest first (ties by name).

    A performer's statement lines name the licensee that paid: its sources are the licensees
    (its documents' own ``sources`` go down to the recording, too fine for a chart). Other
    statements keep the sources they list (licences and tariffs for a CMO, uses for a
    licensee). Zero amounts are left out."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for document in documents:
        if document.get("party", {}).get("kind") == "performer":
            for line in document.get("lines", ()):
                sums[line["currency"]][str(line["licensee"])] += int(line["net_minor"])
        else:
            for source in document.get("sources", ()):
                sums[source["currency"]][str(source["label"])] += int(source["amount_minor"])
    return {
        currency: sorted(
            ((label, amount) for label, amount in by_label.items() if amount),
            key=lambda item: (-item[1], item[0]),
        )
        for currency, by_label in sorted(sums.items())
        if any(by_label.values())
    }
