"""Citations: where a value or a rule comes from.

A citation is an immutable, hashable record so that the engine can collect the citations of
everything that produced a result into a set without duplicates, keeping a stable order.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Fields a citation may have, in the order they are printed.
FIELDS = ("source", "section", "memo", "url", "note")


@dataclass(frozen=True, order=True)
class Citation:
    source: str
    section: str | None = None
    memo: str | None = None
    url: str | None = None
    note: str | None = None

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
    return Citation(**{k: data.get(k) for k in FIELDS})


def merge(*groups) -> tuple[Citation, ...]:
    """Union of citation sequences, keeping the first-seen order."""
    seen: dict[Citation, None] = {}
    for group in groups:
        for citation in group:
            seen.setdefault(citation, None)
    return tuple(seen)
