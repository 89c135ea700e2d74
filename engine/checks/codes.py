"""Every code ``policy check`` reports, with a one-line description.

The codes are stable: CI annotations, SARIF rule ids and scripts rely on them. ``E`` codes are
errors (``policy check`` exits 1), ``W`` codes are warnings (reported, exit 0). The families
before 500 come from reading, validating and compiling rulebooks (``engine/errors/``); the
5xx family is the semantic checks of this package.
"""

from __future__ import annotations

#: code -> (short name, description). Descriptions are whole sentences for SARIF and the docs.
CODES: dict[str, tuple[str, str]] = {
    # Reading, schema and compiling (raised by the loader, the schema and the compiler).
    "E100": ("unreadable-yaml", "The file is not valid YAML or JSON."),
    "E101": ("duplicate-key", "A key appears twice in the same mapping."),
    "E102": ("yaml-feature", "The file uses a YAML feature that is not allowed."),
    "E103": ("too-deep", "The document nests too deeply."),
    "E104": ("too-large", "The document expands to too many values."),
    "E105": ("not-a-number", "A number is not a finite decimal."),
    "E106": ("file-too-large", "The file is too large."),
    "E107": ("unreadable-file", "The file or directory cannot be read."),
    "E108": ("not-utf8", "The file is not UTF-8 text."),
    "E109": ("bad-date", "A date is not a real date written YYYY-MM-DD."),
    "E201": ("schema", "The file does not have the shape the JSON schema requires."),
    "E301": ("expression-syntax", "An expression cannot be read."),
    "E302": ("expression-limit", "An expression is too long or too large."),
    "E303": ("expression-forbidden", "An expression uses syntax the language does not allow."),
    "E305": ("empty-rulebook", "The rulebook file is empty."),
    "E306": ("unknown-source", "A citation's `ref` names no entry of the file's `sources`."),
    "E307": ("bad-rounding", "A rounding is not valid."),
    "E308": ("bad-value", "A parameter value does not fit its unit."),
    "E309": ("unknown-table-input", "A decision-table row tests an input the table does not have."),
    "E310": ("compile", "The rulebooks do not fit together."),
    "E311": ("defined-twice", "A name is defined twice."),
    "E312": ("unknown-namespace", "`uses` names a namespace no rulebook defines."),
    "E313": ("entities", "The entity declarations are inconsistent."),
    "E314": ("unknown-entity", "A rule is computed for an undeclared entity kind."),
    "E315": ("aggregate", "An aggregate is not valid."),
    "E316": ("table-columns", "A table group does not give the table's columns."),
    "E304": ("because-unreadable", "A `because` text is not a valid template."),
    "E317": ("because-unknown-name", "A `because` text uses a name the rule does not read."),
    "E318": ("notice-template-name", "A notice's template or variables use a name the notice does not give."),
    "E320": ("unknown-name", "An expression uses a name that nothing defines."),
    "E321": ("namespace-not-used", "An expression refers to a namespace its file does not list in `uses`."),
    "E322": ("outer-outside-aggregate", "`outer.` is used outside an aggregate."),
    "E323": ("wrong-kind-of-name", "A name is used as a value but is a table, bands or function."),
    "E324": ("impure-function", "A function or table reads a case fact or a rule."),
    "E325": ("wrong-entity", "A rule reads a rule of an entity that is not above it."),
    "E326": ("bad-call", "A call has the wrong number or kind of arguments."),
    "E330": ("cycle", "Definitions depend on each other in a cycle."),
    # Semantic checks (this package).
    "E501": ("type-error", "An expression combines values of types that cannot go together "
             "(text with a number, arithmetic on true/false, ...)."),
    "E502": ("declared-type", "A rule or function gives a value of another type than it declares."),
    "E503": ("condition-not-boolean", "A condition, filter or `when` is not true/false."),
    "E510": ("dates-out-of-order", "A parameter's effective dates are not in date order in the file."),
    "E511": ("dates-overlap", "A value's `until` reaches into the next value's period."),
    "W512": ("dates-gap", "A value ends (`until`) before the next one starts, leaving days with no value."),
    "E513": ("until-before-start", "A value ends before it starts."),
    "E520": ("band-gap", "Two bands leave numbers between them that no band holds."),
    "E521": ("band-overlap", "Two bands both hold some number."),
    "E522": ("band-empty", "A band holds no number (its lower bound is above its upper bound)."),
    "E530": ("table-unreachable-row", "A decision-table row (hit policy first) is covered by the rows above it."),
    "E531": ("table-overlapping-rows", "Two rows of a decision table with hit policy unique can match the same input."),
    "E532": ("table-missing-rows", "A decision table without a default has inputs that no row matches."),
    "E540": ("published-differs", "A value the rules derive differs from a recorded published chart."),
    "E541": ("published-missing", "A recorded published chart cannot be compared (no such row, or the chart cannot be derived)."),
    "W542": ("exception-unused", "A published exception matches no published cell."),
    "W543": ("exception-stale", "A published exception excuses a cell that now agrees."),
    "E550": ("citation-incomplete", "A citation has neither a section nor a URL."),
    "W551": ("source-unused", "A named source in `sources` is cited by nothing."),
    "W552": ("archived-only-citation", "A value taking effect on or after its sources' archive date cites only archived sources (IM-23: the Combined IM Policy Manual replaced them)."),
    "W560": ("unused-parameter", "A parameter is read by no rule, function or table."),
    "W570": ("stale-parameter", "A parameter with an update cycle has no value for the latest cycle."),
    "W580": ("schema-comment-missing", "A rulebook does not declare its schema for yaml-language-server."),
    "W581": ("schema-comment-wrong", "A rulebook's yaml-language-server schema comment points at the wrong file."),
}


def describe(code: str) -> str:
    entry = CODES.get(code)
    return entry[1] if entry else "A problem found by policy check."


def short_name(code: str) -> str:
    entry = CODES.get(code)
    return entry[0] if entry else code.lower()
