"""Bounded input types, declared once and used by every route, query and body field.

Every integer the API takes is checked at the edge against the range of what it is stored
in or compared with, so no request reaches the database (or the error renderer) with a value
that cannot be held there: a row id fits an ``Integer`` primary key, a log index or size a
``BigInteger``. Amounts of money stay within 2^53 - 1, the largest integer every JSON reader
keeps exact (and far from the 64-bit sums the remuneration engine forms). Free text is
bounded by the column it is stored in, and holds no NUL character (PostgreSQL text cannot);
lists are bounded by what a sane request carries.

The aliases work as path, query, form and body fields alike::

    def show(performer_id: Id, cmo_id: Id | None = None) -> ...
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

INT32_MAX = 2**31 - 1  # an ``Integer`` column (every table's primary key)
INT64_MAX = 2**63 - 1  # a ``BigInteger`` column (log indices and sizes)
SAFE_INTEGER = 2**53 - 1  # the largest integer a JSON number keeps exact everywhere

# A row id: 1 to 2^31 - 1, the range of an Integer primary key.
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
# A position in the transparency log (0-based) and a tree size: a BigInteger.
LogIndex = Annotated[int, Field(ge=0, le=INT64_MAX)]
LogSize = Annotated[int, Field(ge=0, le=INT64_MAX)]
# A count, duration, weight or rate stored in an Integer column.
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
# A calendar year.
Year = Annotated[int, Field(ge=0, le=9999)]
# An amount in minor units of a currency.
Minor = Annotated[int, Field(ge=0, le=SAFE_INTEGER)]


def _no_nul(text: str) -> str:
    """PostgreSQL text holds no NUL character: refuse it here rather than in the database."""
    if "\x00" in text:
        raise PydanticCustomError("nul_character", "text may not contain a NUL (0x00) character")
    return text


_Text = AfterValidator(_no_nul)

# A code the services check and normalise before storing it: an ISRC, ISNI or IPN, a use, a
# territory, a country, a currency, a condition, a period label, an entity type.
Code = Annotated[str, Field(max_length=64), _Text]
# A list of codes (uses, territories, conditions): every ISO 3166 code fits with room.
Codes = Annotated[list[Code], Field(max_length=512)]
# The id of a stored decision, screening or report (a String(40) column, or a file name).
TextId = Annotated[str, Field(max_length=128), _Text]
# Names, titles and references, each as long as its column.
Name = Annotated[str, Field(max_length=300), _Text]  # performer, licensee (String(300))
ShortName = Annotated[str, Field(max_length=200), _Text]  # CMO, model (String(200))
Title = Annotated[str, Field(max_length=500), _Text]  # recording title, model purpose (String(500))
Label = Annotated[str, Field(max_length=100), _Text]  # model version, instrument, tariff reference
Reference = Annotated[
    str, Field(max_length=200), _Text
]  # licence and consent references on a label
# A note kept with a rule (a Text column: bounded so one request cannot fill the disk).
Note = Annotated[str, Field(max_length=4000), _Text]
# A signed note with cosignatures, a verifier key and other small documents in text form.
Document = Annotated[str, Field(max_length=65_536), _Text]
# A page cursor, as a previous page's ``next_cursor`` gave it, and a page size.
Cursor = Annotated[str, Field(max_length=2048), _Text]
PageSize = Annotated[int, Field(ge=1, le=1000)]
