"""Shared vocabularies: the uses that consent speaks of, and territories (ISO 3166-1).

The use vocabulary follows the IETF AIPREF categories (``train-ai`` ⊃ ``train-genai``,
``search``) and extends them for music. Codes are stable: they are stored, exported and
signed into log entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pycountry

from sostenuto.errors import InvalidInput


@dataclass(frozen=True)
class Use:
    code: str
    title: str
    description: str
    aipref: str | None  # the AIPREF category this use falls under, if any
    # A prohibition of the parent also prohibits this use. Permissions are never inherited:
    # consent is specific, so permitting train-genai does not permit voice-clone.
    parent: str | None = None


USES: dict[str, Use] = {
    use.code: use
    for use in (
        Use(
            "train-ai",
            "AI training",
            "Using the recording to train, fine-tune or evaluate any AI model.",
            "train-ai",
        ),
        Use(
            "train-genai",
            "Generative AI training",
            "Training a model that generates audio, music or voice (AIPREF train-genai).",
            "train-genai",
            parent="train-ai",
        ),
        Use(
            "fine-tune",
            "Fine-tuning",
            "Adapting an existing generative model on this recording (LoRA, adapters, full).",
            "train-genai",
            parent="train-genai",
        ),
        Use(
            "voice-clone",
            "Voice cloning",
            "Building or running a model that reproduces the performer's voice.",
            "train-genai",
            parent="train-genai",
        ),
        Use(
            "style-imitation",
            "Style imitation",
            "Prompting or conditioning a model to imitate the performer's recognisable style.",
            None,
        ),
        Use(
            "generate-derivative",
            "Derivative generation",
            "Sampling, remixing or continuing the recording with a generative system.",
            None,
        ),
        Use(
            "search-index",
            "Search indexing",
            "Indexing the recording so that an AI search or retrieval system can find it.",
            "search",
        ),
    )
}


def check_use(code: str) -> str:
    """Return ``code`` if it is a known use, else raise :class:`InvalidInput`."""
    if code not in USES:
        raise InvalidInput(
            f"unknown use {code!r}; known uses: {', '.join(USES)}", details={"use": code}
        )
    return code


def check_uses(codes: Iterable[str]) -> list[str]:
    checked = sorted({check_use(code) for code in codes})
    if not checked:
        raise InvalidInput("at least one use is required")
    return checked


def use_ancestry(code: str) -> tuple[str, ...]:
    """The use and every broader use whose prohibitions also reach it, narrowest first."""
    chain = [code]
    parent = USES[code].parent
    while parent is not None:
        chain.append(parent)
        parent = USES[parent].parent
    return tuple(chain)


WORLDWIDE = "WW"  # as in DDEX: every territory


@lru_cache(maxsize=1)
def territory_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


def check_territory(code: str, *, allow_worldwide: bool = True) -> str:
    """Upper-case ISO 3166-1 alpha-2 code, or ``WW``; anything else is refused."""
    normal = code.strip().upper()
    if normal == WORLDWIDE and allow_worldwide:
        return normal
    if normal not in territory_codes():
        raise InvalidInput(
            f"unknown territory {code!r}: use an ISO 3166-1 alpha-2 code such as 'ES'"
            + (" or 'WW' for worldwide" if allow_worldwide else ""),
            details={"territory": code},
        )
    return normal


def check_territories(codes: Iterable[str]) -> list[str]:
    checked = sorted({check_territory(code) for code in codes})
    if not checked:
        raise InvalidInput("at least one territory is required")
    return checked


def covers_territory(territories: Iterable[str], territory: str) -> bool:
    """Whether a list of territories (possibly ``WW``) includes ``territory``."""
    listed = set(territories)
    return WORLDWIDE in listed or territory in listed
