"""Citations: where a value or a rule comes from.

A citation is an immutable, hashable record so that the engine can collect the citations of
everything that produced a result into a set without duplicates, keeping a stable order.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Fields a citation may have, in the order they are printed.
FIELDS = ("source", "section", "memo", "url", "note")


@dataclass(frozen=True, eq=False)
class Citation:
    """One reference. Citations are interned (see :func:`intern`): two citations of the same
    source, section, memo and URL are the same object, so sets of them are cheap to merge."""

    source: str
    section: str | None = None
    memo: str | None = None
    url: str | None = None
    note: str | None = None

    def __post_init__(self):
        # What makes two citations the same reference (a differing note does not); computed
        # once, since results compare it for every citation they list.
        object.__setattr__(self, "key", (self.source, self.section, self.memo, self.url))
        object.__setattr__(self, "canonical", self)   # intern() points it at the note-less copy
        object.__setattr__(self, "bit", 0)            # intern() gives canonical ones their bit
        object.__setattr__(self, "id", None)          # intern() numbers every interned citation
        object.__setattr__(self, "archive", None)     # engine.model.archives: archived when, for what

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in FIELDS if getattr(self, k) is not None}

    def __iter__(self):  # lets dict(citation) work
        return iter(self.as_dict().items())

    def short(self) -> str:
        """``Source, section`` (or the URL), for text output."""
        parts = [self.source]
        if self.memo and self.memo not in self.source:
            parts.append(self.memo)
        if self.section:
            parts.append(self.section)
        text = ", ".join(parts)
        if not self.section and self.url:
            text += f" <{self.url}>"
        return text


_INTERNED: dict[tuple, Citation] = {}
_LOCK = threading.RLock()
#: Canonical (note-less) citations by bit position: the order the rulebooks declare them.
_BY_BIT: list[Citation] = []
#: Every interned citation (notes included) by its id: what :func:`citation_by_id` resolves.
_BY_ID: list[Citation] = []


def intern(citation: Citation) -> Citation:
    """The one shared Citation object for these exact fields (note included, so that each use
    keeps its own note); results list each reference once (see :func:`ordered`)."""
    key = (citation.source, citation.section, citation.memo, citation.url, citation.note)
    existing = _INTERNED.get(key)
    if existing is None:
        with _LOCK:          # rulebooks may be loaded in several threads: one id and bit each
            return _intern_new(citation, key)
    return existing


def _intern_new(citation: Citation, key: tuple) -> Citation:
    """Create and register an interned citation (under the lock), fully set up before another
    thread can find it."""
    existing = _INTERNED.get(key)
    if existing is not None:
        return existing
    created = Citation(citation.source, citation.section, citation.memo, citation.url,
                       citation.note)
    # The citations behind a result are a bit mask over canonical (note-less) citations:
    # merging a rule's dependencies is then one integer OR. A rule's own citations keep
    # their notes when the result is printed.
    canonical = created if citation.note is None else intern(
        Citation(citation.source, citation.section, citation.memo, citation.url))
    object.__setattr__(created, "canonical", canonical)
    if canonical is created:
        object.__setattr__(created, "bit", 1 << len(_BY_BIT))
        _BY_BIT.append(created)
    object.__setattr__(created, "id", len(_BY_ID))
    _BY_ID.append(created)
    _INTERNED[key] = created
    return created


def citation_id(citation: Citation) -> int:
    """A small integer that stands for this citation (its note included) in this process: ids
    are given in the order the rulebooks are loaded, so that a table written beside a batch
    output (id -> citation) can be shared by every result."""
    if citation.id is None:
        citation = intern(citation)
    return citation.id


def citation_by_id(number: int) -> Citation:
    """The citation a :func:`citation_id` stands for (IndexError for an id never given)."""
    if number < 0:
        raise IndexError(number)
    return _BY_ID[number]


def mask_of(citations) -> int:
    """The bit mask of a sequence of citations (each through its canonical reference)."""
    mask = 0
    for citation in citations:
        canonical = citation.canonical
        if not canonical.bit:                 # a citation made without intern(): register it
            canonical = intern(citation).canonical
        mask |= canonical.bit
    return mask


def ordered(own, mask: int) -> tuple[Citation, ...]:
    """Own citations first (in their order, with their notes), then every other reference in
    ``mask`` in the order the rulebooks declare them."""
    first = {}
    for citation in own:
        first.setdefault(citation.key, citation)
    rest = mask & ~mask_of(first.values())
    out = list(first.values())
    by_bit = _BY_BIT
    while rest:
        low = rest & -rest
        out.append(by_bit[low.bit_length() - 1])
        rest ^= low
    return tuple(out)


def build(raw: dict, sources: dict[str, dict]) -> Citation:
    """Build a citation from rulebook data, resolving ``ref`` against the file's ``sources``.

    Raises KeyError with the unknown reference name; the caller turns it into a located error.
    """
    data: dict = {}
    ref = raw.get("ref")
    if ref is not None:
        data.update(sources[ref])
    for key in FIELDS:
        if raw.get(key) is not None:
            data[key] = str(raw[key])
    return intern(Citation(**{k: data.get(k) for k in FIELDS}))


def merge(*groups) -> tuple[Citation, ...]:
    """Union of citation sequences, keeping the first-seen order."""
    return tuple(dict.fromkeys(c for group in groups for c in group))


def interned() -> list[Citation]:
    """Every citation interned in this process so far, in the order it was first interned (for
    tables that give each citation a short id, such as ``policy batch``'s)."""
    return list(_INTERNED.values())
