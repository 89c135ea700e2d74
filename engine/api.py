"""The Python API: load rulebooks once, evaluate many cases.

    from engine import Engine
    engine = Engine.load("policy")                 # parse, validate, compile: once
    evaluation = engine.evaluate("case.yaml", as_of="2018-06-01")
    for result in evaluation.results:
        print(result.name, result.person, result.value, result.citations)

An :class:`Engine` is immutable after loading and safe to share between threads: each
evaluation gets its own working state, and the only shared mutable data is a cache of
parameter values and function results by date, guarded by a lock.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .runtime.charts import ChartResult, evaluate_chart
from .rulebook.compiler import Program, compile_files
from .language.dates import as_of_date, parse_date
from .model.entities import Entity, EntityKind, build_case, check_on
from .errors import CaseError, CompileError, EvaluationError, InputError, PolicyError, codes
from .runtime.state import MAX_STEPS, DateCache, State, decimal_context
from .runtime.budget import BudgetedState, check_budget
from .runtime.collector import paused_collector
from .model.parameters import ParameterValue
from .io.cache import cache_enabled, content_hash
from .io.paths import default_policy_dir
from .runtime.results import Evaluation, Result
from .runtime.trace import Node
from .rulebook.reader import read as read_rulebook
from .io.case_data import ParsedJSON, normalise_case
from .io.schemas import validate
from .io.yaml_loader import load_file

if TYPE_CHECKING:     # imported by a batch reading cases: it needs NumPy, policy eval does not
    from .model.case_rows import ChunkRows

#: File endings read as rulebooks.
RULEBOOK_SUFFIXES = (".yaml", ".yml")


def rulebook_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every rulebook file under the given files and directories, in a stable order."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in RULEBOOK_SUFFIXES and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"There is no rulebook file or directory at {path}.",
                             code=codes.UNREADABLE_FILE,
                             file=str(path))
    return found


def read_rulebooks(files: list[Path]) -> list[Any]:
    """Read, validate and build every file; every file's problems are reported together."""
    books, problems = [], []
    for file in files:
        try:
            books.append(read_rulebook(file))
        except PolicyError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CompileError(problems=problems)
    return books
#: Notice templates are part of the policy too (notices name them from their rulebooks).
TEMPLATE_SUFFIXES = (".j2",)


def rulebook_fingerprint(*paths: str | Path) -> tuple[str, int]:
    """A content hash of the rulebooks under ``paths`` (default: ``policy/``) and how many files
    it covers: SHA-256 over each rulebook file and notice template, in a stable order, as its
    path relative to the directory given and its bytes.

    Two rulebook directories with the same fingerprint give the same results; a changed number,
    citation or template changes it. It is what ``policy --version`` prints, so that a result
    can be traced to the exact policy that produced it.
    """
    digest = hashlib.sha256()
    count = 0
    for root in paths or (default_policy_dir(),):
        root = Path(root)
        files = rulebook_files([root]) + (sorted(p for p in root.rglob("*")
                                                 if p.suffix in TEMPLATE_SUFFIXES and p.is_file())
                                          if root.is_dir() else [])
        for file in sorted(files):
            name = file.relative_to(root).as_posix() if root.is_dir() else file.name
            content = file.read_bytes()
            digest.update(f"{name}\0{len(content)}\0".encode())
            digest.update(content)
            count += 1
    return digest.hexdigest(), count


class Case:
    """A case read from a file or given as data, validated, with its entity tree."""

    def __init__(self, data: dict[str, Any], root: Entity, file: str | None) -> None:
        self.data = data
        self.root = root
        self.file = file

    @property
    def case_id(self) -> Any:
        return self.data.get("case_id")

    @property
    def as_of(self) -> dt.date | None:
        raw = self.data.get("as_of")
        return parse_date(raw) if raw else None


class Engine:
    """Compiled rulebooks, ready to evaluate cases, print parameters and derive charts."""

    def __init__(self, program: Program, *, reference: bool = False):
        """``reference=True`` evaluates every expression with simpleeval's tree walk instead of
        the compiled closures: slower, the same results (the differential tests rely on it)."""
        self.program = program
        self.reference = reference
        self.cache = DateCache()
        self._named: dict[frozenset[str], list[Any]] = {}   # evaluate(names=...): rules found once

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, *paths: str | Path, reference: bool = False) -> "Engine":
        """Load, validate and compile every rulebook under ``paths`` (default: ``policy/``).

        Raises :class:`~engine.errors.PolicyError` (with every problem found, each with its file
        and line) when the rulebooks do not load.
        """
        if not paths:
            bundled = os.environ.get("POLICY_BUNDLE")
            if bundled:
                return cls.load_bundle(bundled, reference=reference)
            paths = (default_policy_dir(),)
        files = rulebook_files(paths)
        if not files:
            raise InputError(f"No rulebook files (*.yaml) were found in {', '.join(map(str, paths))}.",
                             code=codes.UNREADABLE_FILE)
        from .rulebook import bundle
        with paused_collector():
            rulebooks_hash = content_hash(paths) if cache_enabled() else None
            books = bundle.load_cached(rulebooks_hash) if rulebooks_hash else None
            if books is None:
                books = read_rulebooks(files)
                if rulebooks_hash:
                    bundle.store_cached(rulebooks_hash, books)
            return cls(compile_files(books), reference=reference)

    @classmethod
    def load_bundle(cls, path: str | Path, reference: bool = False) -> "Engine":
        """Load rulebooks compiled by ``policy build --out FILE`` (see :mod:`engine.rulebook.bundle`):
        the same engine as :meth:`load` on the rulebooks it was built from, without reading them.

        Raises :class:`~engine.errors.InputError` (``E113``) for a bundle built by another
        version of the engine or another user, or damaged."""
        from .rulebook import bundle
        with paused_collector():
            return cls(compile_files(bundle.read_bundle(path)), reference=reference)

    # -- cases ---------------------------------------------------------------------------------
    def read_case(self, case: Any, source: str | None = None) -> Case:
        """A :class:`Case` from a path, a mapping (as parsed from JSON or YAML) or a Case.

        ``source`` names where mapping data came from (``<stdin>``, a queue message id), so that
        errors can say so; a path names itself.
        """
        if isinstance(case, Case):
            return case
        data, file, kind = self._checked(case, source)
        root = build_case(data, kind, file, validated=True)
        return Case(data, root, file)

    def _checked(self, case: Any, source: str | None) -> tuple[dict[str, Any], str | None,
                                                              EntityKind]:
        """The case's data as :meth:`read_case` builds it (normalised, valid to the case
        schema), its file and the kind of its root entity; raises what ``read_case`` raises
        before building."""
        file = source
        if isinstance(case, (str, Path)):
            file = str(case)
            case = load_file(case)
        if not isinstance(case, dict):
            raise CaseError("A case must be a mapping with `case_id` and `people`.", code=codes.CASE_NOT_MAPPING,
                            file=file, line=getattr(case, "line", None) or 1)
        data = self._valid(case, file)
        root = self.program.root_kind
        if root is None:
            raise CompileError("The rulebooks declare no entities, so no case can be evaluated.",
                               code=codes.ENTITIES)
        return data, file, root

    @staticmethod
    def _valid(case: dict[str, Any], file: str | None) -> dict[str, Any]:
        """A case mapping normalised and checked against the case schema (the part of
        :meth:`_checked` a batch's parsed lines need, see :meth:`read_cases`)."""
        data: dict[str, Any]
        data, plain = normalise_case(case)
        validate("case", data, file, plain=plain)
        return data

    def read_cases(self, cases: list[Any]) -> tuple[list[Any], "ChunkRows | None", list[int]]:
        """:meth:`read_case` of each of many cases (mappings, as a batch parses them), for the
        columnar plan: per case its :class:`Case` or the :class:`PolicyError` ``read_case``
        raises, in order; the valid cases' entities read into rows together
        (:func:`engine.model.case_rows.read_rows`), and which cases (by number) are in them.

        A case in the rows has a root that builds its tree only if asked
        (:class:`~engine.model.case_rows.RowEntity`); a case the rows leave out is built by
        ``build_case``, which words its error or builds it, as ``read_case`` does."""
        out: list[Any] = [None] * len(cases)
        valid: list[int] = []
        datas: list[dict[str, Any]] = []
        root = None
        kind = self.program.root_kind
        for number, case in enumerate(cases):
            if case.__class__ is ParsedJSON and kind is not None:
                # A line a batch parsed: a mapping, no file to load or name, the root known.
                try:
                    data = self._valid(case, None)
                except PolicyError as exc:
                    out[number] = exc
                    continue
                root = kind
                valid.append(number)
                datas.append(data)
                continue
            if isinstance(case, Case):
                out[number] = case
                continue
            try:
                data, file, root = self._checked(case, None)
                if file is not None:     # a case file: its entities name it, built one by one
                    out[number] = Case(data, build_case(data, root, file, validated=True), file)
                    continue
            except PolicyError as exc:
                out[number] = exc
                continue
            valid.append(number)
            datas.append(data)
        if root is None or not datas:
            return out, None, []
        from .model.case_rows import read_rows    # NumPy: only a batch reads rows
        chunk = read_rows(datas, root)
        left_out = set(chunk.left_out)
        in_rows = []
        rows = iter(chunk.cases)
        for at, (number, data) in enumerate(zip(valid, datas)):
            if at in left_out:
                try:
                    out[number] = Case(data, build_case(data, root, None, validated=True), None)
                except PolicyError as exc:
                    out[number] = exc
                continue
            out[number] = Case(data, next(rows).members[0], None)
            in_rows.append(number)
        return out, chunk, in_rows

    def evaluate(self, case: Any, as_of: str | dt.date | None = None,
                 names: Iterable[str] | None = None, source: str | None = None,
                 max_steps: int | None = None) -> Evaluation:
        """Evaluate every output rule (or only ``names``) for a case as of a date.

        The date is ``as_of`` if given, else the case's own ``as_of``, else today. ``source``
        names where mapping data came from, for error messages (see :meth:`read_case`).
        ``max_steps`` (1 to ``MAX_STEPS``, 200,000) is this evaluation's step budget: past it the
        evaluation stops with an :class:`~engine.errors.EvaluationError` ``E441``; without it
        the engine's own bound applies (``E440``). ValueError for a budget out of that range.
        """
        if max_steps is not None:
            check_budget(max_steps)
        case = self.read_case(case, source)
        on = as_of_date(as_of) or case.as_of or dt.date.today()
        check_on(case.root, case.data, on)
        chosen = None if names is None else self._rules_named(names)
        if max_steps is None or max_steps == MAX_STEPS:
            state = State(self.program, self.cache, on, self.reference)
        else:
            state = BudgetedState(self.program, self.cache, on, self.reference, max_steps=max_steps)
        results: list[Result] = []
        try:
            with decimal_context():
                for entity in _walk(case.root):
                    for rule in self.program.outputs_for(entity.kind) if chosen is None else \
                            [r for r in chosen if r.entity_kind is entity.kind]:
                        if chosen is None and not state.shows(rule, entity):
                            continue
                        node = state.rule(rule, entity)
                        results.append(Result(node, on))
        finally:
            # Also when the evaluation stops with an error (a step budget run out, in a
            # service): the state's cycle is broken either way, not left to the collector.
            state.release()
        return Evaluation(case.case_id, on, results)

    def _rules_named(self, names: Iterable[str]) -> list[Any]:
        """The rules called ``names``, in the rulebooks' order; found once per set of names
        (callers such as the service ask for the same few results case after case)."""
        wanted = frozenset(names)
        chosen = self._named.get(wanted)
        if chosen is None:
            unknown = wanted - set(self.program.rules)
            if unknown:
                raise EvaluationError(f"There is no rule named {', '.join(sorted(unknown))}.",
                                      code=codes.UNKNOWN_RULE)
            chosen = [r for r in self.program.rules.values() if r.name in wanted]
            if len(self._named) < 256:        # a bounded memo: callers ask for few sets
                self._named[wanted] = chosen
        return chosen

    # -- parameters and charts -------------------------------------------------------------------
    def parameter(self, name: str, as_of: str | dt.date | None = None) -> ParameterValue:
        """The value of a parameter in force on a date (default today)."""
        parameter = self.program.parameters.get(name)
        if parameter is None:
            close = difflib.get_close_matches(name, list(self.program.parameters), n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise EvaluationError(f"There is no parameter named {name}.{hint}",
                                  code=codes.UNKNOWN_PARAMETER)
        return parameter.at(as_of_date(as_of) or dt.date.today())

    def chart(self, name: str, as_of: str | dt.date | None = None) -> ChartResult:
        """A chart (such as ``income-limits``) derived from the rulebooks as of a date."""
        chart = self.program.chart(name)
        if chart is None:
            known = ", ".join(sorted(c.short for c in self.program.charts.values())) or "none"
            raise EvaluationError(f"There is no chart named {name}. Charts: {known}.",
                                  code=codes.UNKNOWN_CHART)
        state = State(self.program, self.cache, as_of_date(as_of) or dt.date.today(), self.reference)
        with decimal_context():
            return evaluate_chart(state, chart)

    def table(self, name: str, as_of: str | dt.date | None = None) -> ChartResult:
        """The same as :meth:`chart`, under the name ``policy table`` has in the contract."""
        return self.chart(name, as_of)

    def call(self, name: str, *args: Any, as_of: str | dt.date | None = None) -> Node:
        """Call a rulebook function: ``engine.call("fpl.guideline", 3, as_of="2018-06-01")``.

        Returns the trace node: ``.value`` is the result (20780 here), and
        ``engine.runtime.trace.collect_citations(node)`` its citations."""
        function = self.program.functions.get(name)
        if function is None:
            raise EvaluationError(f"There is no function named {name}.",
                                  code=codes.UNKNOWN_FUNCTION)
        if len(args) != len(function.args):
            raise EvaluationError(f"The function {name} takes {len(function.args)} argument(s) "
                                  f"({', '.join(function.args)}), not {len(args)}.",
                                  code=codes.WRONG_ARGUMENT_COUNT)
        state = State(self.program, self.cache, as_of_date(as_of) or dt.date.today(), self.reference)
        with decimal_context():
            return state.call(function, list(args))


def _walk(entity: Entity) -> Iterator[Entity]:
    yield entity
    for children in entity.children.values():
        for child in children:
            yield from _walk(child)
