"""Words of a name or a search, case and accents folded: one tokeniser for the
structures' search text (STR-9), the catalogue's names (HAB-1) and SIRENE searches.
"""

from __future__ import annotations

import re
import unicodedata

_SMALL_WORDS = "a au aux d de des du en et l la le les sa ses sur sous un une"
# Words that name nothing on their own: dropped from a search when others remain.
STOPWORDS = frozenset(_SMALL_WORDS.split())
_WORD = re.compile(r"[^\W_]+")


def unaccented(text: str) -> str:
    """Lower case, accents dropped (``Élysée`` → ``elysee``); ligatures stay."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str | None, *, ligatures: bool = True) -> list[str]:
    """Lower-case unaccented words: ``L'Œuvre Société`` → ``["l", "oeuvre", "societe"]``.
    ``ligatures=False`` keeps œ, æ and ß as they are, as the SIRENE index's full-text
    tokenisers do, so a search folds its words the way the index folded the names."""
    if not text:
        return []
    if ligatures:
        text = text.lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    return _WORD.findall(unaccented(text))


def content_words(found: list[str]) -> list[str]:
    """The words that name something: stop words dropped, unless nothing else remains
    (``mairie de lyon`` → ``mairie lyon``, ``de`` → ``de``)."""
    return [w for w in found if w not in STOPWORDS] or found
