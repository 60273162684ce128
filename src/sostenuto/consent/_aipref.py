"""AIPREF usage preferences (draft-ietf-aipref-vocab, attached by draft-ietf-aipref-attach).

The vocabulary has two categories, ``train-ai`` and ``search``; a statement is an RFC 9651
Structured-Fields Dictionary whose values are the Tokens ``y`` or ``n``. Sostenuto's finer
uses are mapped onto the category that contains them, because a conforming reader ignores
any label it does not know (vocab, "Syntax Extensions"): a refusal written under a label of
our own would be invisible.

Two readers live here: :func:`read_content_usage` reads others' statements as the draft says
(unknown labels, parameters and non-token values ignored; a string that does not parse says
nothing), and :func:`parse_content_usage` checks a statement a CMO submits to Sostenuto,
where every label must be one of the vocabulary and every value ``y`` or ``n``.
"""

from __future__ import annotations

from typing import Literal, cast

from http_sfv.dictionary import Dictionary
from http_sfv.types import Token

from sostenuto.errors import InvalidInput

Category = Literal["train-ai", "search"]
CATEGORIES: tuple[Category, ...] = ("train-ai", "search")
Preference = Literal["y", "n"]

# Which AIPREF category a Sostenuto use falls under (vocab, "Usage Category Labels").
# AIPREF train-ai is "modifying the learned parameters of a generative AI model": training a
# generative model, fine-tuning it and building a voice model are all that.
RESERVATION_CATEGORY: dict[str, Category] = {
    "train-ai": "train-ai",
    "train-genai": "train-ai",
    "fine-tune": "train-ai",
    "voice-clone": "train-ai",
    "search-index": "search",
}
# A permission says "y" only for a use that covers the whole category; a permission of a
# narrower use (fine-tune alone) cannot be widened to all generative training.
PERMISSION_CATEGORY: dict[str, Category] = {
    "train-ai": "train-ai",
    "train-genai": "train-ai",
    "search-index": "search",
}
# A Structured-Fields field value stays well under any header limit; this bounds the input.
MAX_LENGTH = 4096


def _dictionary(text: str) -> Dictionary:
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"a Content-Usage value is at most {MAX_LENGTH} characters")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"Content-Usage {text!r} is not ASCII: Structured Fields (RFC 9651) are ASCII only"
        ) from None
    parsed = Dictionary()
    try:
        parsed.parse(raw)
    except ValueError as error:
        reason = str(error) or "malformed"
        raise InvalidInput(
            f"Content-Usage {text!r} is not an RFC 9651 Dictionary: {reason}",
            details={"content_usage": text},
        ) from None
    return parsed


def read_content_usage(text: str) -> dict[Category, Preference]:
    """Others' preferences as a conforming processor reads them (vocab, "Processing").

    Unknown labels and parameters are ignored, values other than the Tokens ``y``/``n`` leave
    the category unknown, and a value that does not parse leaves every category unknown.
    """
    try:
        parsed = _dictionary(text)
    except InvalidInput:
        return {}
    found: dict[Category, Preference] = {}
    for category in CATEGORIES:
        member = parsed.get(category)
        value = getattr(member, "value", None)
        if isinstance(value, Token) and str(value) in ("y", "n"):
            found[category] = "y" if str(value) == "y" else "n"
    return found


def parse_content_usage(text: str) -> dict[Category, Preference]:
    """A statement a CMO submits: every label known, every value ``y`` or ``n``, or an error.

    Being strict here is what lets Sostenuto tell the CMO its statement would be ignored;
    reading others' statements uses :func:`read_content_usage` instead.
    """
    if not text.strip():
        raise InvalidInput("the Content-Usage value is empty: it states no preference")
    parsed = _dictionary(text)
    if not len(parsed):
        raise InvalidInput("the Content-Usage value states no preference")
    found: dict[Category, Preference] = {}
    for label, member in parsed.items():
        if label not in CATEGORIES:
            raise InvalidInput(
                f"unknown AIPREF label {label!r}; the vocabulary has: {', '.join(CATEGORIES)}",
                details={"label": label},
            )
        value = getattr(member, "value", None)
        if not isinstance(value, Token) or str(value) not in ("y", "n"):
            raise InvalidInput(
                f"the preference for {label} must be the token y or n, got {member}",
                details={"label": label},
            )
        found[cast(Category, label)] = "y" if str(value) == "y" else "n"
    return found


def serialize(preferences: dict[Category, Preference]) -> str:
    """The Dictionary for ``preferences``, categories in vocabulary order."""
    return ", ".join(f"{c}={preferences[c]}" for c in CATEGORIES if c in preferences)
