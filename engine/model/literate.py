"""The literate fields of a rulebook: what it does not model, what it assumes, what the manual says.

Decisions that matter to a reader of the policy used to sit in ``#`` comments, which neither the
docs site nor ``policy check`` can see. They are data instead (docs/language.md, section 1.1):

* ``description`` (file level): what the rulebook covers; ``policy check`` requires it (E590);
* ``not_modelled``: what the policy says that the rulebook deliberately leaves out;
* ``assumptions``: readings the rulebook makes where the policy is silent or ambiguous;
* ``says`` (on a rule, a function, a condition or a decision-table row): the sentence of the
  manual it implements, quoted; ``policy check`` warns about a rule without one (W591).

Each ``not_modelled`` and ``assumptions`` item carries its own citation, built like every other
citation of the file (``ref`` to its ``sources``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .citations import Citation
from ..io.yaml_loader import line_of


@dataclass(frozen=True)
class LiterateNote:
    """One item of ``not_modelled`` or ``assumptions``: a sentence, its citations, why."""

    what: str
    citations: tuple[Citation, ...]
    note: str | None = None
    line: int | None = None


def build_notes(builder, data, key: str) -> list[LiterateNote]:
    """The items of ``data[key]`` (``not_modelled`` or ``assumptions``), citations resolved by
    the rulebook builder (so an unknown ``ref`` is the usual E306)."""
    items = data.get(key) or []
    return [LiterateNote(str(item["what"]), builder.cites(item.get("citation"), item, "citation"),
                         item.get("note"), line_of(items, index))
            for index, item in enumerate(items)]
