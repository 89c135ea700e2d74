"""Archived sources: which citations to show for a result evaluated on a date.

A manual can stop governing without its policy changing: on April 23, 2025 Missouri archived its
separate manuals (MAGI, MHABD, the December 1973 Eligibility Requirements, ...) and replaced them
with the Combined IM Policy Manual (IM-23 2025), "with no changes to program policy". A rulebook
says so on the named source::

    sources:
      magi_household:
        source: Family MO HealthNet (MAGI) Manual
        section: "1805.010.00"
        archived: 2025-04-23
        superseded_by: {source: Combined IM Policy Manual, memo: IM-23 2025, url: ...}

Every citation built from that source carries an :class:`Archive`. :func:`dated` is the one place
that decides what a reader is shown: for a date on or after the archive date, one citation of the
successor (the old section number kept in its section and note) carrying the archived citation
itself as ``formerly`` (a :class:`Succeeded`), so that both can be found and the section is listed
once; before it, the archived citation alone (the manual then in force).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from .citations import Citation, intern

#: Fields of a source that declare its archiving (not citation fields).
SOURCE_FIELDS = ("archived", "superseded_by")


@dataclass(frozen=True)
class Archive:
    """When a source was archived, and the citation of what replaced it for this citation."""

    date: dt.date
    successor: Citation


def declare(citation: Citation, source: dict) -> Citation:
    """Attach the archive a named source declares to a citation built from it (and to its
    note-less canonical form, which results list). Raises ValueError for a date that is not one."""
    on = source.get("archived")
    if on is None:
        return citation
    date = on if isinstance(on, dt.date) else dt.date.fromisoformat(str(on))
    archive = Archive(date, successor_of(citation, date, source.get("superseded_by") or {}))
    for target in {citation, citation.canonical}:
        object.__setattr__(target, "archive", archive)
    return citation


def successor_of(citation: Citation, date: dt.date, replacement: dict) -> Citation:
    """The successor's citation for one archived citation: the replacement's fields, and a note
    naming the archived source and section. IM-23 renumbered the policy and the sources give no
    concordance, so unless the replacement names its own section, the successor's ``section``
    keeps the old number, marked as such: a reader (or a program looking for the deciding
    section first) still finds which part of the policy decided."""
    old = citation.source + (f" {citation.section}" if citation.section else "")
    note = f"Formerly {old} (archived {date.isoformat()})."
    if replacement.get("note"):
        note = f"{replacement['note']} {note}"
    section = replacement.get("section")
    if section is None and citation.section:
        section = f"{citation.section} (numbered as in the archived {citation.source})"
    return intern(Citation(replacement.get("source") or citation.source, section,
                           replacement.get("memo"), replacement.get("url"), note))


@dataclass(frozen=True, eq=False)
class Succeeded(Citation):
    """The successor's citation shown in place of an archived one, which it carries as
    ``formerly``: one object per section instead of a pair, so a result lists each section once
    and a batch line names it with one id. Made only by :func:`shown` (one object per pair)."""

    formerly: Citation | None = None

    def as_dict(self) -> dict:
        out = super().as_dict()
        out["formerly"] = self.formerly.as_dict()
        return out

    def short(self) -> str:
        """As the successor's; without a section of its own, also the archived citation's (else
        the text would not say which part of the policy it is)."""
        text = super().short()
        return text if self.section else f"{text} (formerly {self.formerly.short()})"


_SHOWN: dict[tuple[Citation, Citation], Succeeded] = {}
_SHOWN_LOCK = threading.Lock()


def shown(citation: Citation) -> Citation:
    """What is shown for an archived ``citation`` on or after its archive date: its successor
    carrying it as ``formerly`` (the same object every time, so sets and id tables can hold it);
    ``citation`` itself when it is not archived."""
    archive = archive_of(citation)
    if archive is None:
        return citation
    key = (archive.successor, citation)
    found = _SHOWN.get(key)
    if found is None:
        with _SHOWN_LOCK:
            found = _SHOWN.get(key)
            if found is None:
                successor = archive.successor
                found = _SHOWN[key] = Succeeded(successor.source, successor.section,
                                                successor.memo, successor.url, successor.note,
                                                formerly=citation)
    return found


def archive_of(citation: Citation) -> Archive | None:
    return getattr(citation, "archive", None) or getattr(citation.canonical, "archive", None)


def dated(citations, on: dt.date | None) -> tuple:
    """The citations to show for a result evaluated on ``on``: each archived one (on or after its
    archive date) replaced by its successor carrying it (:func:`shown`); the same tuple when none
    is archived by then."""
    citations = tuple(citations)
    if on is None or not any(archive_of(c) is not None for c in citations):
        return citations
    out = []
    for citation in citations:
        archive = archive_of(citation)
        out.append(shown(citation) if archive is not None and on >= archive.date else citation)
    return tuple(dict.fromkeys(out))


def only_archived(citations, on: dt.date) -> bool:
    """Whether every one of ``citations`` (at least one) was archived on or before ``on``."""
    citations = tuple(citations)
    return bool(citations) and all((a := archive_of(c)) is not None and a.date <= on
                                   for c in citations)
