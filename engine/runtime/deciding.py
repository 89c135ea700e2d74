"""Deciding citations: the sections that decided a value, not everything its evaluation read.

Evaluating a rule reads many values: a first-match rule tests its conditions in order, an ``and``
stops at its first false operand, ``max`` compares several limits. The *read-set* (every citation
behind every value read, :func:`engine.runtime.trace.collect_citations`) answers "what did the engine
look at"; a person asking "why" wants the sections that decided the value. This module defines
those, once, for both evaluators (the compiled closures and simpleeval's tree walk record the same
marks, and ``tests/engine/test_closures.py`` holds them to the same deciding citations).

**What decides a value** (``docs/language.md`` gives worked examples):

* the citation of the condition, decision-table row or rule that gave the value: the *deciding
  section*, listed first (a branch without a citation of its own has the rule's);
* what the branch that gave the value used: the operands of its condition that made it true (all
  of an ``and``; the first true one of an ``or``) and every input of its value expression;
* only for the result itself, not for the values it read: what made each earlier condition or
  row fail (the first false operand of an ``and``; every operand of a false ``or``), by the
  deciding section of each value that operand read (not the values behind those);
* of ``min`` and ``max`` over several arguments, and of the aggregates ``any``, ``all``, ``min``
  and ``max``, only the argument or member that gave the value (``any`` that is false and ``all``
  that is true are decided by every member);
* for each value so used, its own deciding citations (a rule's or function's, recursively; a
  parameter's dated entry, then the parameter's), except that a value which is a result of its
  own (an output rule, such as ``magi.household_income``) brings only its deciding section: its
  own result lists the rest;
* last, the rule's general citation. Each reference is listed once.

Nothing comes from operands that were not evaluated (short circuit) or did not decide, nor from
rules read only by branches never tried.

**How it is recorded.** Evaluation appends every record it reads to the frame of the value being
computed (``State.frame``), as before. Where only part of a frame decides, the code that knows it
(a boolean operator, ``min``/``max``, a body) adds a *mark* to ``State.marks``: a range of frame
positions to leave out (``SKIP``) or the range that the branch giving the value read
(``TAKEN``; the rest, not skipped, is what made earlier branches fail). The closure compiler
leaves out the marks that cannot change a citation (operands that read no parameter, rule or
function), so most expressions run exactly as fast as before. Everything else is computed from
the marks only when a result's citations are asked for, and memoised per node.
"""

from __future__ import annotations

from itertools import compress

from ..language.marks import SKIP, TAKEN
from ..model.citations import Citation, citation_by_id, citation_id, intern
from .trace import FactRead, Node

_EMPTY: tuple = ((), 0)

__all__ = ["deciding_citations", "deciding_ids", "citation_by_id", "citation_id"]


# --------------------------------------------------------------------------------------------
# Reading (when a result's citations are asked for)
# --------------------------------------------------------------------------------------------

def _parts(node: Node) -> tuple:
    """The records that decided ``node``: (read by the branch that gave the value, read only by
    the earlier branches that failed), in the order read. A record may appear more than once
    (and in both): :func:`_compose` lists each citation once, and a value's deciding section is
    always part of its deciding citations, so a record in both adds nothing for having failed."""
    marks = node.marks
    if marks is None:
        return node.reads, ()
    frame, ranges = marks
    if len(ranges) == 1:
        kind, start, end = ranges[0]
        if kind == TAKEN and end is None:     # a first-match rule whose first branches failed
            return frame[start:], frame[:start]
        if kind == SKIP:
            return frame[:start] + frame[end:], ()
    size = len(frame)
    for kind, _, _ in ranges:
        if kind == TAKEN:
            break
    else:
        # Only skips (the operands of `and`/`or` that did not decide, the members an
        # aggregate's value did not come from): the frame without them, in order.
        core, at = [], 0
        for _, start, end in sorted(ranges):
            if start > at:
                core.extend(frame[at:start])
            if end > at:
                at = end
        core.extend(frame[at:])
        return core, ()
    # Taken and skipped ranges: one flag per frame position (C-level slices, then
    # itertools.compress). A position a skip covers did not decide (a skip wins); of the rest,
    # one a TAKEN range covers is what the branch that gave the value read, and any other made
    # an earlier branch fail.
    taken = bytearray(size)
    failed = bytearray(b"\x01") * size
    for kind, start, end in ranges:
        if kind == TAKEN:
            if end is None:
                end = size
            if start < end:
                taken[start:end] = b"\x01" * (end - start)
                failed[start:end] = bytes(end - start)
    for kind, start, end in ranges:
        if kind == SKIP and start < end:
            taken[start:end] = failed[start:end] = bytes(end - start)
    return list(compress(frame, taken)), list(compress(frame, failed))


#: Per tuple of own citations (a rule's, a branch's), by the tuple's id (the tuple is kept in the
#: entry, so its id cannot be reused): (canonical citations in order, their bit mask, canonical
#: -> the citation as written). Rulebooks hold a bounded number of such tuples, so this is
#: computed once per branch and rule, not per value. Each rulebook set loaded (a service's
#: reload) brings new tuples, and an entry keeps its tuple alive: this table and the other
#: per-tuple ones below are emptied when they grow past :data:`MAX_COMPOSED` entries, so that
#: reloads cannot make them grow without end (computing an entry again is all that costs).
_HEADERS: dict = {}


def _header(citations: tuple) -> tuple:
    entry = _HEADERS.get(id(citations))
    if entry is not None and entry[0] is citations:
        return entry[1]
    out, mask, written = [], 0, {}
    for citation in citations:
        canonical = citation.canonical
        if not canonical.bit:                 # made without intern(): register it
            canonical = intern(citation).canonical
        written.setdefault(canonical, citation)
        if not mask & canonical.bit:
            mask |= canonical.bit
            out.append(canonical)
    header = (tuple(out), mask, written)
    if len(_HEADERS) >= MAX_COMPOSED:
        _HEADERS.clear()
    _HEADERS[id(citations)] = (citations, header)
    return header


def _own(node: Node) -> tuple:
    """What a node's branch and rule give every value they compute, as one record, memoised by
    the identity of their citation tuples (so once per branch and rule, not per value):

    * ``[0]``: (deciding section, its mask, deciding section and general citation, their mask),
      the head of every deciding list composed for such a value (:func:`_compose`);
    * ``[1]``: (deciding section, its mask): what the value brings when it made an earlier
      branch fail, or when it is a result of its own (:func:`_front`);
    * ``[2]``: canonical -> the own citation as written, or None (:func:`_written`);
    * ``[3]``: (deciding section and general citation, their mask): the deciding list of a
      value that nothing else decided, one pair kept."""
    own = node._own
    if own is not None:
        return own
    return own_record(node.branch_citations, node.definition.citations)


def known_own_record(branch, general: tuple) -> tuple | None:
    """:func:`own_record`, worked out ahead (by a node's maker), or None when a citation of the
    branch or rule is not registered yet: registering gives it its bit and id, and doing that
    ahead of reading could number citations in another order than reading them does."""
    for citation in (*(branch or ()), *general):
        if not citation.canonical.bit:
            return None
    return own_record(branch, general)


def own_record(branch, general: tuple) -> tuple:
    """:func:`_own` for a value given by a branch with ``branch`` citations (None: given by no
    branch of its own) of a rule with ``general`` citations. A node's maker may keep it in
    the node (``Node._own``), saving the look-up when its citations are read."""
    if branch is None:                # most values: the rule's own citations alone
        entry = _OWN_PLAIN.get(id(general))
        if entry is not None and entry[0] is general:
            return entry[1]
        own = _own_record(None, general)
        if len(_OWN_PLAIN) >= MAX_COMPOSED:
            _OWN_PLAIN.clear()
        _OWN_PLAIN[id(general)] = (general, own)
        return own
    key = (id(branch), id(general))
    entry = _OWN.get(key)
    if entry is not None and entry[0] is branch and entry[1] is general:
        return entry[2]
    own = _own_record(branch, general)
    if len(_OWN) >= MAX_COMPOSED:
        _OWN.clear()
    _OWN[key] = (branch, general, own)
    return own


def _own_record(branch, general: tuple) -> tuple:
    """:func:`_own`'s record for a branch's citations (None: none of its own) and a rule's."""
    first, mask, _ = _header(branch or general)
    out = list(first)
    combined = mask
    for citation in _header(general)[0]:
        if not combined & citation.bit:
            combined |= citation.bit
            out.append(citation)
    both = tuple(out)
    return (first, mask, both, combined), (first, mask), _written(branch, general), \
        (both, combined)


#: :func:`_own` per (branch citations, rule citations), by their ids (both kept in the entry).
_OWN: dict = {}
#: :func:`_own` of values given by no branch of their own, by the id of the rule's citations.
_OWN_PLAIN: dict = {}


def _compose(node: Node, deps, failed=()) -> tuple[tuple, int]:
    """The deciding section, then the deciding citations of ``deps`` in order, then the deciding
    sections of ``failed`` (what made earlier branches fail), then the rule's general citation:
    canonical references, each once, and their bit mask."""
    return _compose_own(_own(node), deps, failed)


def _compose_own(record: tuple, deps, failed=()) -> tuple[tuple, int]:
    """:func:`_compose` for a node whose :func:`_own` record is ``record``.

    This runs for every value whose citations are read (directly or through a result that used
    it), so it is written for speed. The list depends only on the branch's and rule's own
    citations and on the (citations, mask) each dependency brings, in order; the same rule
    composes the same parts case after case, so the list is memoised on those parts
    (:data:`_COMPOSED`) and only the parts are gathered per value. A part whose citations the
    deciding section already lists adds nothing and is left out of the key."""
    own = record[0]
    mask = own[1]
    parts = None
    for dep in deps:
        cls = dep.__class__
        if cls is Node:
            # A result of its own (an output rule) brings its deciding section: its own result
            # lists what decided it. Anything else brings everything that decided it.
            if dep.definition.output:
                found = _own(dep)[1]    # (an output rule is never a transparent test)
            else:
                found = dep._core
                if found is None:       # _core(dep), inlined: once per value read
                    marks = dep.marks
                    found = dep._core = _compose_own(_own(dep), dep.reads if marks is None
                                                     else _parts(dep)[0])
        elif cls is FactRead:
            continue
        else:
            found = getattr(dep, "_deciding", None) or _core(dep)
        if found[1] & ~mask:
            if parts is None:
                parts = [own, found]
            else:
                parts.append(found)
    for dep in failed:
        found = _front(dep)
        if found[1] & ~mask:
            if parts is None:
                parts = [own, found]
            else:
                parts.append(found)
    if parts is None:                 # nothing but the branch's and the rule's own
        return record[3]
    key = tuple(parts)
    composed = _COMPOSED.get(key)
    if composed is None:
        composed = _composition(own, parts)
        if len(_COMPOSED) >= MAX_COMPOSED:
            _COMPOSED.clear()
        _COMPOSED[key] = composed
    return composed


#: :func:`_compose` by its parts (own citations, then each part's (citations, mask)); the key
#: holds the parts themselves, so an entry can never answer for other parts. Emptied when it
#: grows past :data:`MAX_COMPOSED` entries (composing again is all that costs).
_COMPOSED: dict = {}
MAX_COMPOSED = 50_000


def _composition(own: tuple, parts: list) -> tuple[tuple, int]:
    """The deciding list from its parts: ``own`` = (deciding section, its mask, deciding section
    and general citation, their mask), then ``parts[1:]`` in order; each reference once."""
    first, mask, both, both_mask = own
    out = list(first)
    mask = _gather(out, mask, parts[1:])
    if both_mask & ~mask:
        for citation in both:
            if not mask & citation.bit:
                mask |= citation.bit
                out.append(citation)
    return tuple(out), mask


def _core(record) -> tuple[tuple, int]:
    """What decided a value read by another one: its deciding citations without the reasons its
    earlier branches failed (those explain only the value itself). Memoised on the record."""
    cls = record.__class__
    if cls is Node:
        cached = record._core
        if cached is None:
            marks = record.marks
            cached = record._core = _compose_own(_own(record), record.reads if marks is None
                                                 else _parts(record)[0])
        return cached
    if cls is FactRead:
        return _EMPTY
    cached = getattr(record, "_deciding", None)
    if cached is None:
        # A parameter value: its dated entry's citations (the figure in force), then the
        # parameter's own.
        entry = getattr(getattr(record, "entry", None), "citations", ())
        order, mask, _ = _header(tuple(dict.fromkeys((*entry, *record.citations))))
        cached = (order, mask)
        try:
            record._deciding = cached
        except AttributeError:      # a record kind without the slot: computed each time
            pass
    return cached


def _front(record) -> tuple[tuple, int]:
    """The deciding section of a value that made an earlier branch fail: the section of the
    test (its branch's citation, else its rule's), not everything behind it, so that "not MHK:
    income above the MHK limit" names the limit's section without the whole MAGI budget again.
    A *transparent* rule (``transparent: true``: one level's test composed into a first-match
    rule) brings instead the deciding sections of what decided its own value, as if its formula
    were written in the condition that read it."""
    if record.__class__ is not Node:
        return _core(record)
    definition = record.definition
    if getattr(definition, "transparent", False) and not definition.output:
        # Not memoised by citations: what a transparent test brings depends on its value.
        cached = getattr(record, "_front", None)     # a slot left unset on other nodes
        if cached is None:
            deps = record.reads if record.marks is None else _parts(record)[0]
            fronts = tuple([_front(dep) for dep in deps if dep.__class__ is not FactRead])
            # The same test brings the same fronts case after case: composed once per fronts
            # (the key holds them, so an entry answers only for equal fronts).
            cached = _THROUGH.get(fronts)
            if cached is None:
                cached = through_fronts(fronts)
                if len(_THROUGH) >= MAX_COMPOSED:
                    _THROUGH.clear()
                _THROUGH[fronts] = cached
            record._front = cached
        return cached
    return _own(record)[1]


#: What a transparent test brings (:func:`through_fronts`), per tuple of the fronts it read.
_THROUGH: dict = {}


def through_fronts(fronts) -> tuple[tuple, int]:
    """What a transparent rule's value brings when it made an earlier branch fail: the deciding
    sections (``fronts``, (canonical citations, mask) pairs in the order read) of the values
    that decided it, each reference once."""
    out: list = []
    mask = _gather(out, 0, fronts)
    return tuple(out), mask


def _gather(out: list, mask: int, pairs) -> int:
    """Append to ``out`` the citations of each (citations, mask) pair in ``pairs`` that ``mask``
    (the bits of what ``out`` holds) does not have yet, in order; the mask of the result. One
    call per list composed (memoised or once per node), so sharing it costs nothing per value."""
    for citations, bits in pairs:
        if bits & ~mask:
            for citation in citations:
                if not mask & citation.bit:
                    mask |= citation.bit
                    out.append(citation)
    return mask


#: Per (branch citations, rule citations): canonical -> the rule's own citation as written (with
#: its note), or None when no own citation has a note.
_WRITTEN: dict = {}


def _written(branch, general):
    key = (id(branch), id(general))
    entry = _WRITTEN.get(key)
    if entry is not None and entry[0] is branch and entry[1] is general:
        return entry[2]
    written = dict(_header(general)[2])
    if branch:
        written.update(_header(branch)[2])
    found = written if any(k is not v for k, v in written.items()) else None
    if len(_WRITTEN) >= MAX_COMPOSED:
        _WRITTEN.clear()
    _WRITTEN[key] = (branch, general, found)
    return found


def deciding_citations(record) -> tuple[Citation, ...]:
    """The citations that decided a computed value, deciding section first (see the module
    docstring). The node's own citations keep their notes; memoised on the node."""
    if record.__class__ is not Node:
        return _core(record)[0]
    cached = record._deciding
    if cached is None:
        if record.marks is None:
            core, failed = record.reads, ()
        else:
            core, failed = _parts(record)
        own = _own(record)
        written = own[2]
        if failed:
            # Only the result itself lists what failed; its core (for values reading it) is
            # composed when one asks for it.
            order = _compose_own(own, core, failed)[0]
        else:
            if record._core is None:
                record._core = _compose_own(own, core)
            order = record._core[0]
        if written is None:
            cached = record._deciding = order
        else:
            # The same list with the same notes, case after case: mapped once (`order` is a
            # memoised composition, so its identity stands for its content while it lives).
            key = (id(order), id(written))
            entry = _NOTED.get(key)
            if entry is None or entry[0] is not order or entry[1] is not written:
                entry = (order, written, tuple(map(written.get, order, order)))
                if len(_NOTED) >= MAX_COMPOSED:
                    _NOTED.clear()
                _NOTED[key] = entry
            cached = record._deciding = entry[2]
    return cached


#: :func:`deciding_citations` with the own citations' notes, per (list, notes), by their ids
#: (both kept in the entry, so an id cannot be reused while its entry lives).
_NOTED: dict = {}


def deciding_ids(record) -> list[int]:
    """:func:`deciding_citations` as citation ids, in order (resolve with
    :func:`~engine.citations.citation_by_id`): what a columnar or batch writer stores."""
    return [citation_id(c) for c in deciding_citations(record)]


# --------------------------------------------------------------------------------------------
# The same composition for the columnar plan (which keeps, per row, what decided instead of
# frames and marks: engine.runtime.columnar)
# --------------------------------------------------------------------------------------------

def read_citations(record) -> tuple[tuple, int]:
    """What a value read by another one brings to that value's deciding citations, and its
    deciding section (what it brings when it made an earlier branch fail): two (canonical
    citations, mask) pairs. An output rule's value brings only its deciding section."""
    front = _front(record)
    if record.__class__ is Node and getattr(record.definition, "output", False):
        return front, front
    return _core(record), front


def branch_section(branch: tuple, general: tuple) -> tuple[tuple, int]:
    """The deciding section of a value given by a branch with ``branch`` citations (none: the
    rule's ``general`` ones), as (canonical citations, mask)."""
    return _header(branch or general)[:2]


def compose_citations(branch: tuple, general: tuple, cores, fronts=()) -> tuple[tuple, int]:
    """:func:`_compose` from parts: the deciding section of the branch, then each of ``cores``
    (what the taken branch read, as (citations, mask) pairs in the order read), then each of
    ``fronts`` (the deciding sections of what made earlier branches fail), then the general
    citation; canonical references, each once, and their mask."""
    first, mask, _ = _header(branch or general)
    out = list(first)
    mask = _gather(out, mask, cores)
    mask = _gather(out, mask, fronts)
    for citation in _header(general)[0]:
        if not mask & citation.bit:
            mask |= citation.bit
            out.append(citation)
    return tuple(out), mask


def as_written(branch: tuple, general: tuple, order: tuple) -> tuple:
    """``order`` (canonical citations) with the branch's and rule's own citations as written
    (with their notes), as :func:`deciding_citations` gives them."""
    written = _written(branch, general)
    return order if written is None else tuple(map(written.get, order, order))
