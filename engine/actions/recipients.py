"""Recipients: who receives an entity's notices, each decided by a cited rule.

A rulebook's ``recipients:`` section (docs/language.md, section 11.6) names, for the entity whose
notices these are (a person):

* ``applies``: a boolean rule, whose notices list recipients at all (an MHABD participant),
* ``participant``: a boolean rule, whether the entity itself receives them (a copy),
* ``over`` and ``representative``: a child collection (authorized representatives) and a
  boolean rule of each member, whether that member receives them.

:func:`recipients_for` evaluates those rules for a case on a date and returns, per entity, every
one considered with whether it receives the notices, the rule's reason and its citations. Nothing
here knows what a primary representative is: the rules say it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..io.yaml_loader import line_of
from ..runtime.results import Evaluation
from ..errors import codes


@dataclass(eq=False)
class RecipientList:
    name: str
    namespace: str
    title: str
    entity_name: str
    applies: str
    participant: str
    over: str
    representative: str
    citations: tuple = ()
    file: str | None = None
    line: int | None = None

    def rule_names(self) -> list[str]:
        return [self.applies, self.participant, self.representative]


@dataclass
class Recipient:
    role: str                    # "participant" or the member kind ("authorized_representative")
    id: object
    name: object
    receives: bool
    because: str | None
    citations: tuple = ()

    def as_dict(self) -> dict:
        return {"role": self.role, "id": self.id, "name": self.name, "receives": self.receives,
                "because": self.because, "citations": [c.as_dict() for c in self.citations]}


@dataclass
class Recipients:
    """Everyone considered for one entity's notices (receiving or not)."""

    entity: str
    considered: list = field(default_factory=list)

    @property
    def receiving(self) -> list:
        return [r for r in self.considered if r.receives]

    def as_dict(self) -> dict:
        return {"to": [r.as_dict() for r in self.receiving],
                "not_sent": [r.as_dict() for r in self.considered if not r.receives]}

    def text(self) -> str:
        return ", ".join(f"{r.name or r.id} ({r.role})" for r in self.receiving) or "no one"


def build_recipients(builder, name: str, raw: dict, parent) -> RecipientList:
    qualified = lambda rule: rule if "." in rule else f"{builder.namespace}.{rule}"
    return RecipientList(f"{builder.namespace}.{name}", builder.namespace, raw["title"],
                         raw["entity"], qualified(raw["applies"]), qualified(raw["participant"]),
                         raw["over"], qualified(raw["representative"]),
                         builder.cites(raw.get("citation"), raw, "citation"), builder.file,
                         line_of(parent, name))


def compile_recipients(compiler) -> dict:
    """Check that every rule a recipients section names exists, for the right entity."""
    found = {}
    for book in compiler.files:
        for item in getattr(book, "recipients", {}).values():
            found[item.name] = item
            for field_name, rule in (("applies", item.applies), ("participant", item.participant),
                                     ("representative", item.representative)):
                definition = compiler.rules.get(rule)
                if definition is None:
                    compiler.error(f"Recipients {item.name} name {rule} as `{field_name}`, which is "
                                   "not a rule.", item.file, item.line, f"{item.name}.{field_name}",
                                   code=codes.UNKNOWN_NAME)
                    continue
                expected = item.entity_name if field_name != "representative" else \
                    next((k.name for k in compiler.kinds.values() if k.collection == item.over
                          and getattr(k.parent, "name", k.parent) == item.entity_name), None)
                if definition.entity_name != expected:
                    where = (f"each member of `{item.over}` ({expected})" if field_name ==
                             "representative" else f"each {item.entity_name}")
                    compiler.error(f"Recipients {item.name}: `{field_name}` must be a rule computed "
                                   f"for {where}, but {rule} is computed for each "
                                   f"{definition.entity_name}.", item.file, item.line,
                                   f"{item.name}.{field_name}", code=codes.WRONG_ENTITY)
    return found


def recipients_for(engine, case, on) -> dict:
    """``{entity label: Recipients}`` for every entity some recipients section applies to."""
    lists = list(getattr(engine.program, "recipients", {}).values())
    if not lists:
        return {}
    wanted = list(dict.fromkeys(n for item in lists for n in item.rule_names()))
    evaluation: Evaluation = engine.evaluate(case, on, names=wanted)
    by_rule: dict = {}
    for result in evaluation.results:
        by_rule.setdefault(result.name, {})[id(result.entity)] = result
    out = {}
    for item in lists:
        for key, applies in by_rule.get(item.applies, {}).items():
            if applies.value is not True:
                continue
            entity = applies.entity
            found = Recipients(entity.label())
            own = by_rule.get(item.participant, {}).get(key)
            if own is not None:
                found.considered.append(Recipient(
                    "participant", entity.id, entity.facts.get("name"), own.value is True,
                    own.because, own.citations))
            for member in entity.children.get(item.over, []):
                decided = by_rule.get(item.representative, {}).get(id(member))
                if decided is None:
                    continue
                found.considered.append(Recipient(
                    member.kind.name, member.id, member.facts.get("name"), decided.value is True,
                    decided.because, decided.citations))
            out[entity.label()] = found
    return out
