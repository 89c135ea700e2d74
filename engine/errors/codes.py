"""Every problem code the engine reports: one named constant each, with a short name and a title.

The codes are stable: CI annotations, SARIF rule ids, scripts and the outside acceptance tests rely
on them. ``E`` codes are errors, ``W`` codes warnings (``policy check`` reports them and exits 0).
Raise sites use the constants (``code=codes.DUPLICATE_KEY``), never a bare ``"E101"``;
``tests/test_codes.py`` checks that every code written anywhere in ``engine/`` is registered here
and that the table of codes in ``docs/embedding.md`` lists exactly these codes.

The families: ``E0xx`` and ``Ex00`` are the defaults of the exception classes (used when a raise
site gives no code), ``E1xx`` reading, ``E2xx`` schemas, ``E3xx`` compiling, ``E4xx`` evaluating,
``E5xx``/``W5xx`` the semantic checks of ``policy check``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """One problem code: ``E101``, its short name ``duplicate-key`` and a one-sentence title."""

    code: str
    name: str
    title: str

    @property
    def severity(self) -> str:
        return "warning" if self.code.startswith("W") else "error"


#: code -> its record, in the order of the families.
REGISTRY: dict[str, Code] = {}


def register(code: str, name: str, title: str) -> str:
    """Record a code and return it, so that the constant is the plain string ``Problem`` holds."""
    if code in REGISTRY:
        raise ValueError(f"The code {code} is registered twice.")
    REGISTRY[code] = Code(code, name, title)
    return code


def title(code: str) -> str:
    entry = REGISTRY.get(code)
    return entry.title if entry else "A problem found by the engine."


def short_name(code: str) -> str:
    entry = REGISTRY.get(code)
    return entry.name if entry else code.lower()

# Defaults of the exception classes, used when a raise site gives no code
POLICY_ERROR = register("E000", "policy-error",
                        "A problem with the input or the rulebooks (the default of PolicyError).")
SCHEMA_ERROR = register("E200", "schema-error",
                        "A file does not fit its schema (the default of SchemaError).")
COMPILE_ERROR = register("E300", "compile-error",
                         "The rulebooks cannot be compiled (the default of CompileError).")
EVALUATION_ERROR = register("E400", "evaluation-error",
                            "A case cannot be evaluated (the default of EvaluationError).")

# E1xx: reading (InputError)
UNREADABLE_YAML = register("E100", "unreadable-yaml", "The file is not valid YAML or JSON.")
DUPLICATE_KEY = register("E101", "duplicate-key", "A key appears twice in the same mapping.")
YAML_FEATURE = register("E102", "yaml-feature", "The file uses a YAML feature that is not allowed.")
TOO_DEEP = register("E103", "too-deep", "The document nests too deeply.")
TOO_LARGE = register("E104", "too-large", "The document expands to too many values.")
NOT_A_NUMBER = register("E105", "not-a-number", "A number is not a finite decimal.")
FILE_TOO_LARGE = register("E106", "file-too-large", "The file is too large.")
UNREADABLE_FILE = register("E107", "unreadable-file", "The file or directory cannot be read.")
NOT_UTF8 = register("E108", "not-utf8", "The file is not UTF-8 text.")
BAD_DATE = register("E109", "bad-date", "A date is not a real date written YYYY-MM-DD.")
UNREADABLE_CASES = register("E110", "unreadable-cases",
                            "The cases for `policy batch` cannot be read.")
DIFF_VERSIONS = register("E111", "diff-versions",
                         "`policy diff` cannot get the two versions to compare.")
UNKNOWN_ONLY = register("E112", "unknown-only",
                        "`policy batch --only` names a rule no rulebook defines.")
BUNDLE_REFUSED = register("E113", "bundle-refused",
                          "A compiled rulebook bundle cannot be used: built by another version "
                          "of the engine or another user, or damaged.")
FORMAT_UNSAFE = register("E114", "format-unsafe",
                         "`policy fmt` would change what the file means, so it leaves the file "
                         "alone.")
SPARK_UNAVAILABLE = register("E115", "spark-unavailable",
                             "`--runner spark` cannot run: pyspark (the `spark` extra) or Java is "
                             "missing, or the Spark job failed.")
BAD_SWEEP = register("E119", "bad-sweep",
                     "`policy sweep` cannot run with the arguments given (a person not in the "
                     "case, an amount not in whole cents, a step of 0, too many points).")

# E2xx: schemas (SchemaError)
SCHEMA = register("E201", "schema", "The file does not have the shape the JSON schema requires.")

# E3xx: compiling (CompileError)
EXPRESSION_SYNTAX = register("E301", "expression-syntax", "An expression cannot be read.")
EXPRESSION_LIMIT = register("E302", "expression-limit", "An expression is too long or too large.")
EXPRESSION_FORBIDDEN = register("E303", "expression-forbidden",
                                "An expression uses syntax the language does not allow.")
BECAUSE_UNREADABLE = register("E304", "because-unreadable",
                              "A `because` text is not a valid template.")
EMPTY_RULEBOOK = register("E305", "empty-rulebook", "The rulebook file is empty.")
UNKNOWN_SOURCE = register("E306", "unknown-source",
                          "A citation's `ref` names no entry of the file's `sources`.")
BAD_ROUNDING = register("E307", "bad-rounding", "A rounding is not valid.")
BAD_VALUE = register("E308", "bad-value", "A parameter value does not fit its unit.")
UNKNOWN_TABLE_INPUT = register("E309", "unknown-table-input",
                               "A decision-table row tests an input the table does not have.")
COMPILE = register("E310", "compile", "The rulebooks do not fit together.")
DEFINED_TWICE = register("E311", "defined-twice", "A name is defined twice.")
UNKNOWN_NAMESPACE = register("E312", "unknown-namespace",
                             "`uses` names a namespace no rulebook defines.")
ENTITIES = register("E313", "entities", "The entity declarations are inconsistent.")
UNKNOWN_ENTITY = register("E314", "unknown-entity",
                          "A rule is computed for an undeclared entity kind.")
AGGREGATE = register("E315", "aggregate", "An aggregate is not valid.")
TABLE_COLUMNS = register("E316", "table-columns",
                         "A chart group does not give the chart's columns.")
BECAUSE_UNKNOWN_NAME = register("E317", "because-unknown-name",
                                "A `because` text uses a name the rule does not read.")
NOTICE_TEMPLATE_NAME = register("E318", "notice-template-name",
                                "A notice's template or variables use a name the notice does not "
                                "give.")
CHARTS_AND_TABLES = register("E319", "charts-and-tables",
                             "A rulebook gives both `charts:` and its older name `tables:`.")
UNKNOWN_NAME = register("E320", "unknown-name", "An expression uses a name that nothing defines.")
NAMESPACE_NOT_USED = register("E321", "namespace-not-used",
                              "An expression refers to a namespace its file does not list in "
                              "`uses`.")
OUTER_OUTSIDE_AGGREGATE = register("E322", "outer-outside-aggregate",
                                   "`outer.` is used outside an aggregate.")
WRONG_KIND_OF_NAME = register("E323", "wrong-kind-of-name",
                              "A name is used as a value but is a table, bands or function.")
IMPURE_FUNCTION = register("E324", "impure-function",
                           "A function or table reads a case fact or a rule.")
WRONG_ENTITY = register("E325", "wrong-entity",
                        "A rule reads a rule of an entity that is not above it.")
BAD_CALL = register("E326", "bad-call", "A call has the wrong number or kind of arguments.")
ENUM_LITERAL = register("E327", "enum-literal",
                        "A rule's literal result is not one of the values its `enum` declares.")
CYCLE = register("E330", "cycle", "Definitions depend on each other in a cycle.")

# E4xx: evaluating (EvaluationError; CaseError for E411-E419)
UNKNOWN_RULE = register("E401", "unknown-rule", "A rule asked for does not exist.")
UNKNOWN_PARAMETER = register("E402", "unknown-parameter", "A parameter asked for does not exist.")
UNKNOWN_CHART = register("E403", "unknown-chart", "A table asked for does not exist.")
UNKNOWN_FUNCTION = register("E404", "unknown-function", "A function called does not exist.")
UNKNOWN_DEADLINE = register("E405", "unknown-deadline", "A deadline asked for does not exist.")
UNKNOWN_NOTICE = register("E406", "unknown-notice", "A notice asked for does not exist.")
UNKNOWN_CHANGE = register("E407", "unknown-change",
                          "A change comparison asked for does not exist, or its dates are missing.")
WRONG_ARGUMENT_COUNT = register("E408", "wrong-argument-count",
                                "A function is called with the wrong number of arguments.")
MISSING_FACT = register("E410", "missing-fact",
                        "A rule reads a required fact the case does not give.")
CASE_NOT_MAPPING = register("E411", "case-not-mapping", "The case is not a mapping.")
BAD_COLLECTION = register("E412", "bad-collection",
                          "A collection is not a list of mappings, or is too long.")
UNKNOWN_CASE_KEY = register("E413", "unknown-case-key",
                            "A key of an entity is neither a declared fact nor a collection.")
BAD_FACT = register("E414", "bad-fact", "A fact's value does not fit its declared type or bounds.")
MISSING_ID = register("E415", "missing-id", "An entity lacks its id fact.")
DUPLICATE_ID = register("E416", "duplicate-id", "Two entities of one collection have the same id.")
UNKNOWN_REFERENCE = register("E417", "unknown-reference",
                             "A fact that references another entity names an id no such entity "
                             "has.")
IMPOSSIBLE_RELATION = register("E418", "impossible-relation",
                               "A relation that cannot be: an entity named in its own references "
                               "fact, a cycle through parents or claimers, or a spouse not named "
                               "back.")
IMPOSSIBLE_ON_DATE = register("E419", "impossible-on-date",
                              "A fact that cannot be true on the evaluation date: a birth after it, "
                              "or an age that disagrees with the date of birth.")
CANNOT_COMPUTE = register("E420", "cannot-compute", "An expression cannot be computed.")
NOT_TRUE_OR_FALSE = register("E421", "not-true-or-false",
                             "A condition, filter or `when` is not true or false.")
NO_CONDITION_HOLDS = register("E422", "no-condition-holds",
                              "No condition is true and there is no `otherwise`.")
TABLE_CANNOT_COMPARE = register("E423", "table-cannot-compare",
                                "A decision-table test cannot compare its input.")
TABLE_SEVERAL_ROWS = register("E424", "table-several-rows",
                              "A `unique` decision table has more than one matching row.")
TABLE_NO_ROW = register("E425", "table-no-row",
                        "No decision-table row matches and there is no `default`.")
EMPTY_MIN_MAX = register("E426", "empty-min-max",
                         "`min` or `max` of no values, without a `default`.")
ROUND_NOT_A_NUMBER = register("E427", "round-not-a-number",
                              "A rule or function with `round` produced something that is not a "
                              "number.")
WRONG_TYPE = register("E428", "wrong-type", "A value is not of its declared type.")
RULE_FAILURE = register("E429", "rule-failure",
                        "The rulebook called `error(...)`: the case cannot be decided.")
NO_VALUE_IN_FORCE = register("E430", "no-value-in-force",
                             "A parameter has no value in force on the date.")
NO_TABLE_ROW = register("E431", "no-table-row", "A table parameter has no row for the key.")
NO_BAND = register("E432", "no-band", "No band of a bands parameter holds the number.")
NOT_A_TABLE = register("E433", "not-a-table", "A single-value parameter was looked up with a key.")
CONTRADICTORY_FACTS = register("E434", "contradictory-facts",
                               "Facts of a case contradict each other (two primary authorized "
                               "representatives, an application-only representative without an "
                               "application, a shared representative the spouse does not name).")
TOO_MANY_STEPS = register("E440", "too-many-steps",
                          "One evaluation took too many rule and function computations.")
STEP_BUDGET = register("E441", "step-budget",
                       "One evaluation needed more rule and function computations than the step "
                       "budget its caller set (policy serve --max-steps).")
FOR_EACH_NOT_A_LIST = register("E450", "for-each-not-a-list",
                               "A table's `for_each` did not give a list.")
BAD_PERIOD = register("E460", "bad-period",
                      "A deadline's period or extension is not a whole number in range.")
BAD_ROLL = register("E461", "bad-roll",
                    "A deadline's roll is not valid, or needs a calendar its counting rule does "
                    "not name.")
NO_EXTENSION = register("E462", "no-extension",
                        "The extended date of a deadline without an extension was asked for.")
NO_BUSINESS_DAY = register("E463", "no-business-day", "No business day near a deadline's last day.")
CANNOT_COUNT = register("E464", "cannot-count", "A deadline cannot count from the date given.")
NOTICE_UNRENDERABLE = register("E470", "notice-unrenderable",
                               "A notice template cannot be rendered.")

# E5xx and W5xx: semantic checks (policy check only)
TYPE_ERROR = register("E501", "type-error",
                      "An expression combines values of types that cannot go together (text with "
                      "a number, arithmetic on true/false, ...).")
DECLARED_TYPE = register("E502", "declared-type",
                         "A rule or function gives a value of another type than it declares.")
CONDITION_NOT_BOOLEAN = register("E503", "condition-not-boolean",
                                 "A condition, filter or `when` is not true/false.")
FLOAT_ARTEFACT = register("E504", "float-artefact",
                          "A number is written as a binary-float artefact (0.30000000000000004) or "
                          "in exponent notation (1.30501e3) instead of the exact decimal the "
                          "source publishes.")
DIVISION_BY_ZERO = register("E505", "division-by-zero",
                            "A division's divisor is a literal zero, or a parameter whose value in "
                            "force is zero on some date.")
DATES_OUT_OF_ORDER = register("E510", "dates-out-of-order",
                              "A parameter's effective dates are not in date order in the file.")
DATES_OVERLAP = register("E511", "dates-overlap",
                         "A value's `until` reaches into the next value's period.")
DATES_GAP = register("W512", "dates-gap",
                     "A value ends (`until`) before the next one starts, leaving days with no "
                     "value.")
UNTIL_BEFORE_START = register("E513", "until-before-start", "A value ends before it starts.")
BAND_GAP = register("E520", "band-gap", "Two bands leave numbers between them that no band holds.")
BAND_OVERLAP = register("E521", "band-overlap", "Two bands both hold some number.")
BAND_EMPTY = register("E522", "band-empty",
                      "A band holds no number (its lower bound is above its upper bound).")
TABLE_UNREACHABLE_ROW = register("E530", "table-unreachable-row",
                                 "A decision-table row (hit policy first) is covered by the rows "
                                 "above it.")
TABLE_OVERLAPPING_ROWS = register("E531", "table-overlapping-rows",
                                  "Two rows of a decision table with hit policy unique can match "
                                  "the same input.")
TABLE_MISSING_ROWS = register("E532", "table-missing-rows",
                              "A decision table without a default has inputs that no row matches.")
PUBLISHED_DIFFERS = register("E540", "published-differs",
                             "A value the rules derive differs from a recorded published chart.")
PUBLISHED_MISSING = register("E541", "published-missing",
                             "A recorded published chart cannot be compared (no such row, or the "
                             "chart cannot be derived).")
EXCEPTION_UNUSED = register("W542", "exception-unused",
                            "A published exception matches no published cell.")
EXCEPTION_STALE = register("W543", "exception-stale",
                           "A published exception excuses a cell that now agrees.")
CITATION_INCOMPLETE = register("E550", "citation-incomplete",
                               "A citation has neither a section nor a URL.")
SOURCE_UNUSED = register("W551", "source-unused",
                         "A named source in `sources` is cited by nothing.")
ARCHIVED_ONLY_CITATION = register("W552", "archived-only-citation",
                                  "A value taking effect on or after its sources' archive date "
                                  "cites only archived sources (IM-23: the Combined IM Policy "
                                  "Manual replaced them).")
UNUSED_PARAMETER = register("W560", "unused-parameter",
                            "A parameter is read by no rule, function or table.")
STALE_PARAMETER = register("W570", "stale-parameter",
                           "A parameter with an update cycle has no value for the latest cycle.")
SCHEMA_COMMENT_MISSING = register("W580", "schema-comment-missing",
                                  "A rulebook does not declare its schema for "
                                  "yaml-language-server.")
SCHEMA_COMMENT_WRONG = register("W581", "schema-comment-wrong",
                                "A rulebook's yaml-language-server schema comment points at the "
                                "wrong file.")
DESCRIPTION_MISSING = register("E590", "description-missing",
                               "A rulebook has no top-level `description`.")
SAYS_MISSING = register("W591", "says-missing",
                        "A rule that reports a result does not quote, in `says`, the sentence of "
                        "the manual it implements.")

# E6xx: the HTTP service (``policy serve``), answered as application/problem+json
UNSUPPORTED_MEDIA_TYPE = register("E601", "unsupported-media-type",
                                  "The request body has a media type the endpoint does not read.")
BODY_TIMEOUT = register("E602", "body-timeout", "The request head or body did not arrive in time.")
SATURATED = register("E603", "saturated", "Too many requests are waiting; retry after a moment.")
EVALUATION_TIMEOUT = register("E604", "evaluation-timeout",
                              "The evaluation did not finish in time.")
NOT_FOUND = register("E605", "not-found", "There is no such resource.")
METHOD_NOT_ALLOWED = register("E606", "method-not-allowed",
                              "The endpoint does not answer this HTTP method.")
BAD_QUERY = register("E607", "bad-query", "A query parameter is not valid.")
BAD_REQUEST_FIELD = register("E608", "bad-request-field", "A field of the request body is not valid.")
RELOAD_REFUSED = register("E609", "reload-refused",
                          "A new rulebook set failed its check; the old one keeps serving.")
RELOAD_DISABLED = register("E610", "reload-disabled", "Reloading over HTTP is turned off.")
INTERNAL = register("E611", "internal", "An engine defect; nothing about the request was wrong.")
