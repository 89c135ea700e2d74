"""Notices (policy/notices/, engine/actions/notices.py): each notice's exact text, its recipient, due
date and citations, and the template sandbox.

The IM-31A paragraph "must be entered exactly as written on the free-form part of the IM-31A"
(IM Resources, Cooperation in Pursuit of Medical Support): it is compared byte for byte with the
text below and, when the shared source copy is present, with that copy.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine import Engine, PolicyError
from engine.actions.notices import render_notices

from .conftest import CASES, ROOT

SOURCE = ROOT.parent / "shared" / "sources" / "000_fc47e4a3cc0d4a35.txt"

IM31A_PARAGRAPH = (
    "Enclosed is the Referral/Information for Child Support Services (CS-201) notice. Because there "
    "is an absent parent(s) of a child living in your home, you are required to complete a referral "
    "form (CS-201) for each child without 1 or 2 parents living in the home.\n"
    "\n"
    "If you have Good Cause for not completing the CS-201, you must complete the Second Notice of "
    "Right to Claim Good Cause for Refusal to Cooperate in Child Support Enforcement (IM-2E Part 2) "
    "which you received with your Approval Notice (IM-33) and provide documentation. Good Cause and "
    "appropriate documentation is described on the IM-2E Part 2 form.\n"
    "\n"
    "Only one of the 2 forms (CS-201 or IM-2E Part 2) must be submitted.\n"
    "\n"
    "Please clearly add your DCN and name to all documents. This will ensure their association with "
    "your case."
)


def notices(engine, case, as_of=None, names=None):
    _, _, rendered = render_notices(engine, CASES / case if isinstance(case, str) else case,
                                    as_of, names)
    return {(n.notice.short, n.person): n for n in rendered}


def test_im31a_paragraph_is_byte_for_byte(engine):
    found = notices(engine, "absent_parent.yaml")
    im31a = found[("im31a_cs201", None)]
    assert im31a.body.encode("utf-8") == IM31A_PARAGRAPH.encode("utf-8")


@pytest.mark.skipif(not SOURCE.is_file(), reason="the shared source copy is not beside the repository")
def test_im31a_paragraph_matches_the_source_page(engine):
    lines = SOURCE.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("Enclosed is the Referral"))
    from_source = "\n".join(lines[start:start + 7])
    assert from_source.endswith("association with your case.")
    assert from_source == IM31A_PARAGRAPH
    body = notices(engine, "absent_parent.yaml")[("im31a_cs201", None)].body
    assert body.encode("utf-8") == from_source.encode("utf-8")


def test_im31a_goes_to_the_parent_with_a_cs201_for_the_child_and_is_due_in_ten_days(engine):
    im31a = notices(engine, "absent_parent.yaml")[("im31a_cs201", None)]
    assert im31a.to == ["mom"]
    assert im31a.variables["cs201_for"] == ["kid"]
    # Approved and sent June 24, 2025: + 10 = Friday July 4 (Independence Day) -> Monday July 7.
    assert im31a.due == dt.date(2025, 7, 7)
    sections = {c.section for c in im31a.citations}
    assert "Send CS-201 and IM-31A after MO HealthNet Approval" in sections
    assert "9.010 Public holidays" in {c.section for c in im31a.due_citations}


def test_im31a_is_not_called_for_before_the_approval(engine):
    """"Send CS-201 and IM-31A after MO HealthNet Approval": the case approved June 24, 2025."""
    assert ("im31a_cs201", None) not in notices(engine, "absent_parent.yaml", as_of="2025-06-23")
    assert ("im31a_cs201", None) in notices(engine, "absent_parent.yaml", as_of="2025-06-24")


def test_no_cs201_without_an_absent_parent_or_for_a_premium_child(engine):
    case = {"case_id": "x", "approval_date": "2025-06-24", "people": [
        {"id": "mom", "age": 31, "sex": "female", "tax_filer": True,
         "incomes": [{"type": "wages", "amount": "1500", "frequency": "monthly"}]},
        {"id": "kid", "age": 6, "claimed_by": "mom", "parents": ["mom"]}]}
    assert notices(engine, case, "2025-06-24") == {}
    # A child in a premium group (CHIP 75) with an absent parent: no CS-201 (non-premium only).
    case["people"][0]["incomes"][0]["amount"] = "5000"
    case["people"][1]["absent_parent"] = True
    assert notices(engine, case, "2025-06-24") == {}


ROUTING_KNOWN = (
    "When the completed CS-201 for Sam Miller is received, scan and enter a copy into the ECM, then "
    "email it to FSD.IntakeCenter@dss.mo.gov: all parties (custodial parent, non-custodial or alleged "
    "parent, and children) can be identified.\n"
    "\n"
    "If the CS-201 indicates possible Good Cause, contact the participant to discuss it before sending "
    "it (policy 4.7.1 Good Cause Overview).\n"
    "\n"
    "Participants only may instead submit the CS-201 to the Child Support Division themselves:\n"
    "- by mail: Family Support Division, PO Box 6790, Jefferson City, MO 65102-6790\n"
    "- by fax: 573-635-7545"
)


def test_cs201_routing_when_all_parties_are_identified(engine):
    routing = notices(engine, "absent_parent.yaml")[("cs201_routing", "kid")]
    assert routing.to == "FSD.IntakeCenter@dss.mo.gov"
    assert routing.body == ROUTING_KNOWN


def test_cs201_routing_when_the_parent_is_unknown(engine):
    routing = notices(engine, "unknown_parent.yaml")[("cs201_routing", "kid")]
    assert routing.to == "CS.MEDESLiaison@dss.mo.gov"
    assert routing.body.startswith(
        "When the completed CS-201 for kid is received, scan and enter a copy into the ECM, then email "
        "it to CS.MEDESLiaison@dss.mo.gov: the non-custodial or alleged parent is \"unknown\" and "
        "cannot be identified.\n\n")


def test_im16_good_cause_approved(engine):
    case = CASES / "absent_parent.yaml"
    from engine.io.yaml_loader import load_file
    data = load_file(case)
    data["people"][0]["good_cause"] = "approved"
    found = notices(engine, data)
    im16 = found[("im16_good_cause_approved", "mom")]
    assert im16.to == "FSD.IntakeCenter@dss.mo.gov"
    assert im16.body == (
        "Communication Transmittal (IM-16)\n"
        "To: FSD.IntakeCenter@dss.mo.gov\n"
        "Individual: Dana Miller\n"
        "\n"
        "The individual listed has been approved for Good Cause.\n"
        "\n"
        "Staff:\n"
        "- Send only this IM-16. Do not send Good Cause documentation to Child Support.\n"
        "- To keep the participant safe, review Protected Caseloads to decide whether the case goes to "
        "the Protected Load; otherwise enter all Good Cause evidence in the ECM.")
    assert "Good Cause Approved" in {c.section for c in im16.citations}
    assert ("im16_good_cause_denied", "mom") not in found
    # "If Good Cause is approved, send only a Communication Transmittal (IM-16)": no CS-201 routing
    assert not [key for key in found if key[0] == "cs201_routing"]


def test_im16_good_cause_denied_goes_with_the_cs201_by_the_same_routing(engine):
    found = notices(engine, "unknown_parent.yaml")
    im16 = found[("im16_good_cause_denied", "mom")]
    assert im16.to == "CS.MEDESLiaison@dss.mo.gov"
    assert im16.body == (
        "Communication Transmittal (IM-16), sent with a completed CS-201\n"
        "To: CS.MEDESLiaison@dss.mo.gov\n"
        "Individual: Dana Miller\n"
        "\n"
        "The individual listed requested Good Cause but was denied.\n"
        "\n"
        "Staff:\n"
        "- Complete and send the CS-201 with this IM-16 to CS.MEDESLiaison@dss.mo.gov (the "
        "non-custodial or alleged parent is unknown).\n"
        "- Only the Child Support Division can request any action regarding non-cooperation.")
    assert "Good Cause Not Approved" in {c.section for c in im16.citations}


def test_good_cause_request_is_due_in_twenty_days_extendable_to_45(engine):
    request = notices(engine, "good_cause.yaml")[("good_cause_request", "mom")]
    # Sent Saturday June 14, 2025: + 20 = July 4 (holiday) -> Monday July 7; 45 days = July 29.
    assert request.due == dt.date(2025, 7, 7)
    assert request.body == (
        "Send the IM-31A and the IM-2E Part 2 (Second Notice of Right to Claim Good Cause for Refusal to "
        "Cooperate in Child Support Enforcement) to mom, asking for documentation of Good Cause.\n"
        "\n"
        "Allow 20 days to return the IM-2E Part 2 and verification of Good Cause: due July 7, 2025. The "
        "20 days can be extended for up to 45 days (due July 29, 2025) if the participant has difficulty "
        "obtaining verification.\n"
        "\n"
        "Review a returned IM-2E Part 2 as policy 4.7.2 Determining Good Cause for Refusal to Cooperate "
        "with Child Support describes, and submit it to the Program Coordinator for approval or "
        "rejection.")


SANCTION_ENTER = """Child Support Enforcement requested a child support sanction for Lee Park (request received 2025-03-03).

Only CSE can request a sanction be imposed or lifted; impose it only on CSE's request. Send the IM-80PRE first, so that the participant can report a disability and the worker can decide whether an ex parte review is needed for a level of coverage that does not require cooperation with CSE. The Extended Eligibility-Adverse Action evidence will show 20 days: the adverse action ends 2025-03-23.

Enter the Child Support Sanction in MEDES:
1. From the Integrated Case > Evidence sub-tab < Dashboard folder < Participant Data section
2. Hover over the MO Medical Support Non-Cooperation evidence and click the Create Evidence icon
3. Received Date: 2025-03-03 (the date the sanction request is received from CSE)
4. Case Participant: select Lee Park
5. Good Cause Reason: select No Good Cause
6. Start Date: 2025-03-03 (it must match the Received Date)
7. Comments: the date and reason for the Child Support Sanction
8. Click Save

When the Adverse Action expires, MEDES adjusts the Application Details unless Lee Park is eligible for another level of coverage that does not require CSE cooperation, such as MPW or UWHS."""

SANCTION_END = """Child Support Enforcement lifted the child support sanction for Lee Park on 2025-04-15.

End the Child Support Sanction in MEDES:
1. From the Integrated Case > Evidence sub-tab < Dashboard folder < Participant Data section
2. Click the MO Medical Support Non-Cooperation evidence hyperlink
3. Toggle open the MO Medical Support Non-Cooperation Evidence you are ending
4. Click the List Actions menu and click Continue Editing
5. End Date: 2025-04-15 (the date CSE lifts the sanction)
6. Comments: the date and reason for ending the Child Support Sanction
7. Click Save"""


def test_enter_a_sanction(engine):
    enter = notices(engine, "sanction.yaml")[("sanction_enter", "dad")]
    # Received Monday March 3, 2025: + 20 = Sunday March 23 (a MEDES period; not moved).
    assert enter.due == dt.date(2025, 3, 23)
    assert enter.body == SANCTION_ENTER


def test_end_a_sanction(engine):
    from engine.io.yaml_loader import load_file
    data = load_file(CASES / "sanction.yaml")
    data["people"][0]["sanction_lifted_date"] = "2025-04-15"
    before = notices(engine, data, "2025-04-14")
    assert ("sanction_enter", "dad") in before and ("sanction_end", "dad") not in before
    after = notices(engine, data, "2025-04-15")
    assert ("sanction_enter", "dad") not in after
    assert after[("sanction_end", "dad")].body == SANCTION_END


def test_reasonable_opportunity_and_ssn_requests(engine):
    found = notices(engine, "immigrant.yaml")
    ro = found[("reasonable_opportunity", "kid")]
    # Approved June 2, 2025: 90 + 5 mailing days = 95 days -> Friday September 5, 2025.
    assert ro.due == dt.date(2025, 9, 5)
    assert "has until September 5, 2025 (the reasonable opportunity period counted from June 2, 2025)" in ro.body
    ssn = found[("ssn_request", "mom")]
    # IM-31A sent June 2: + 10 = Thursday June 12; denial by the 30th day after May 20 = June 19.
    assert ssn.due == dt.date(2025, 6, 12)
    assert ssn.body == (
        "Request for Information (IM-31A): Social Security Number for mom.\n"
        "\n"
        "Apply for a Social Security Number, or provide it, by June 12, 2025 (10 days). FSD staff must "
        "assist with the application when needed. A member who has not applied for or provided a SSN "
        "is denied by June 19, 2025, the 30th day after the application of May 20, 2025.")


def test_every_notice_is_cited(engine):
    for notice in engine.program.notices.values():
        assert notice.citations, notice.name


# -- the template sandbox -------------------------------------------------------------------

ENTITIES = """
rulebook: case
version: "1"
entities:
  case:
    facts: {case_id: {type: text}}
  person:
    parent: case
    collection: people
    id: id
    facts: {id: {type: text}}
"""

CASE = {"case_id": "c", "people": [{"id": "a"}]}


def _load(tmp_path: Path, notice: str, files: dict | None = None) -> Engine:
    (tmp_path / "case.yaml").write_text(ENTITIES)
    (tmp_path / "n.yaml").write_text('rulebook: n\nversion: "1"\nnotices:\n  hello:\n'
                                     '    title: Hello\n    entity: case\n    when: "true"\n'
                                     '    to: \'"you"\'\n    citation: {source: Test, section: "1"}\n'
                                     + notice)
    for name, text in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Engine.load(tmp_path)


def test_a_template_may_not_include_other_files(tmp_path):
    with pytest.raises(PolicyError, match="uses `include`"):
        _load(tmp_path, "    template: a.j2\n", {"a.j2": "{% include 'b.j2' %}", "b.j2": "x"})


def test_a_template_may_not_use_a_name_its_notice_does_not_give(tmp_path):
    with pytest.raises(PolicyError, match="uses secret, which the notice does not give"):
        _load(tmp_path, "    text: 'Hello {{ secret }}'\n")


def test_a_template_outside_the_rulebook_directory_is_refused(tmp_path):
    inner = tmp_path / "rules"
    inner.mkdir()
    (tmp_path / "outside.j2").write_text("x")
    (inner / "link.j2").symlink_to(tmp_path / "outside.j2")
    with pytest.raises(PolicyError, match="not under the rulebook's directory"):
        _load(inner, "    template: link.j2\n")


def test_the_sandbox_refuses_python_internals(tmp_path):
    engine = _load(tmp_path, "    text: '{{ to.__class__.__mro__ }}'\n")
    with pytest.raises(PolicyError, match="cannot be rendered"):
        render_notices(engine, CASE, "2025-01-01")


def test_inline_text_renders_with_its_variables(tmp_path):
    engine = _load(tmp_path, "    due: date(2025, 7, 4)\n    variables: {n: 3}\n"
                             "    text: 'To {{ to }}: {{ n }} by {{ due | long_date }}.'\n")
    _, _, rendered = render_notices(engine, CASE, "2025-01-01")
    assert [r.body for r in rendered] == ["To you: 3 by July 4, 2025."]
