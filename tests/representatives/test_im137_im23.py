"""IM-137 (2019, MHABD authorized representatives) and IM-23 (2025, the Combined IM Policy Manual):
one test per sentence of the memos that decides something, on cases built here."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from engine.actions.notices import render_notices
from engine.actions.recipients import recipients_for
from engine.api import Engine
from engine.errors import PolicyError
from engine.model.archives import dated

ON = "2026-06-01"


@pytest.fixture(scope="module")
def engine():
    return Engine.load("policy")


def person(pid, **facts):
    return {"id": pid, "age": 70, "medicare": True, **facts}


def case(*people, **facts):
    return {"case_id": "ar", "application_received": "2026-02-02", **facts, "people": list(people)}


def receiving(engine, data, who, on=ON):
    found = recipients_for(engine, data, on)[f"person '{who}'"]
    return [r.id for r in found.receiving]


def test_notices_are_mailed_only_to_the_primary_ar(engine):
    # "Notices will only be mailed to the primary AR."
    data = case(person("a", authorized_representatives=[
        {"id": "p", "role": "primary"}, {"id": "s", "role": "secondary"}]))
    assert receiving(engine, data, "a") == ["a", "p"]


def test_each_spouse_may_select_their_own_ar(engine):
    # "MHABD ARs will now be designated for the individual ... Each spouse may select his/her own AR."
    # With different primary ARs, the couple's notices go to neither AR (next sentence).
    data = case(person("h", spouse="w", authorized_representatives=[{"id": "x", "role": "primary"}]),
                person("w", spouse="h", authorized_representatives=[{"id": "y", "role": "primary"}]))
    assert receiving(engine, data, "h") == ["h"]
    assert receiving(engine, data, "w") == ["w"]


def test_couple_sharing_the_same_primary_ar(engine):
    # "Notices will now be sent to the AR for couple cases, IF they share the same primary AR, ..."
    shared = {"id": "d", "role": "primary", "shared_with_spouse": True}
    data = case(person("h", spouse="w", authorized_representatives=[dict(shared)]),
                person("w", spouse="h", authorized_representatives=[dict(shared)]))
    assert receiving(engine, data, "h") == ["h", "d"]
    assert receiving(engine, data, "w") == ["w", "d"]


def test_couple_where_only_one_designates(engine):
    # "... or if only the individual requesting or receiving benefits designates an AR."
    data = case(person("h", spouse="w", authorized_representatives=[{"id": "x", "role": "primary"}]),
                person("w", spouse="h"))
    assert receiving(engine, data, "h") == ["h", "x"]
    assert receiving(engine, data, "w") == ["w"]


def test_phi_permission_n_does_not_stop_notices(engine):
    # "Protected Health Information (PHI) Permission response of N will not prevent notices
    # being mailed to an AR coded as primary."
    data = case(person("a", authorized_representatives=[
        {"id": "p", "role": "primary", "phi_permission": "N"}]))
    assert receiving(engine, data, "a") == ["a", "p"]


def test_ar_address_entered_as_mailing_address(engine):
    # "When the AR's address is entered, the participant does not receive a copy of notices."
    data = case(person("a", authorized_representatives=[
        {"id": "p", "role": "primary", "address_entered_as_mailing": True}]))
    found = recipients_for(engine, data, ON)["person 'a'"]
    assert [r.id for r in found.receiving] == ["p"]
    participant = found.considered[0]
    assert participant.receives is False and "mailing address" in participant.because


def test_application_only_ar_ends_with_the_decision(engine):
    # "An AR coded as APO will be ended by FAMIS upon the completion of the application
    # (approval or rejection)."
    apo = {"id": "p", "role": "primary"}, {"id": "q", "role": "application_only"}
    pending = case(person("a", authorized_representatives=[dict(x) for x in apo]))
    considered = recipients_for(engine, pending, ON)["person 'a'"].considered
    active = engine.evaluate(pending, ON, names=["representatives.active"])
    assert [r.value for r in active.results] == [True, True]
    for decided in ({"approval_date": "2026-03-10"}, {"rejection_date": "2026-03-10"}):
        data = case(person("a", authorized_representatives=[dict(x) for x in apo]), **decided)
        values = [r.value for r in engine.evaluate(data, ON, names=["representatives.active"]).results]
        assert values == [True, False]
        # before the decision it is still in force
        values = [r.value for r in engine.evaluate(data, "2026-03-09",
                                                   names=["representatives.active"]).results]
        assert values == [True, True]
    assert considered


def test_application_only_ar_continues_while_a_hearing_is_pending(engine):
    # "If a hearing is requested ... Remove the AR end date if application was not cancel rejected."
    data = case(person("a", authorized_representatives=[
        {"id": "q", "role": "application_only", "hearing_requested": True}]),
        rejection_date="2026-03-10")
    values = [r.value for r in engine.evaluate(data, ON, names=["representatives.active"]).results]
    assert values == [True]
    # "When the hearing decision is received ... Enter the current date as the end date"
    data["people"][0]["authorized_representatives"][0]["end_date"] = "2026-05-01"
    values = [r.value for r in engine.evaluate(data, ON, names=["representatives.active"]).results]
    assert values == [False]


# --- contradictions (E434) ------------------------------------------------------------------

def refused(engine, data):
    with pytest.raises(PolicyError) as info:
        engine.evaluate(data, ON)
    return info.value.problem


def test_only_one_representative_may_be_primary(engine):
    # FAMIS user guide: "Only one Representative may be Primary."
    problem = refused(engine, case(person("a", authorized_representatives=[
        {"id": "p", "role": "primary"}, {"id": "q", "role": "primary"}])))
    assert problem.code == "E434"
    assert problem.field == "people[0].authorized_representatives[1].role"


def test_application_only_needs_an_application(engine):
    data = case(person("a", authorized_representatives=[{"id": "q", "role": "application_only"}]))
    del data["application_received"]
    problem = refused(engine, data)
    assert problem.code == "E434" and "application_received" in problem.message


def test_shared_ar_must_be_named_by_the_spouse(engine):
    problem = refused(engine, case(
        person("h", spouse="w", authorized_representatives=[
            {"id": "d", "role": "primary", "shared_with_spouse": True}]),
        person("w", spouse="h")))
    assert problem.code == "E434"
    assert problem.field == "people[0].authorized_representatives[0].shared_with_spouse"


# --- notices ----------------------------------------------------------------------------------

def test_policy_notice_lists_recipients(engine):
    loaded, on, notices = render_notices(engine, "examples/mhabd-authorized-representative.yaml",
                                         ON)
    ssn = [n for n in notices if n.notice.short == "ssn_request"][0]
    out = ssn.as_dict()["recipients"]
    assert [r["id"] for r in out["to"]] == ["walter", "ar-dana"]
    assert [r["id"] for r in out["not_sent"]] == ["ar-lee"]
    assert any(c.get("memo") == "IM-137 2019" for c in out["to"][1]["citations"])


# --- IM-23: archived manuals ----------------------------------------------------------------

def test_archived_citation_cites_the_combined_manual_from_april_23_2025(engine):
    # "The current manuals will all be archived April 23, 2025."
    result = engine.evaluate("examples/jones.yaml", "2025-04-23").find("chip.family_premium")
    shown = dated(result.citations, dt.date(2025, 4, 23))
    assert shown[0].source == "Combined IM Policy Manual" and shown[0].memo == "IM-23 2025"
    assert "Formerly Family MO HealthNet (MAGI) Manual" in shown[0].note
    # one citation per section: the successor carries the archived citation it replaces
    assert shown[0].formerly is result.citations[0]
    assert len(shown) == len(result.citations)
    assert all(getattr(c, "formerly", None) is not None for c in shown
               if c.source == "Combined IM Policy Manual")
    # the same object every time (so that id tables and sets can hold it)
    assert dated(result.citations, dt.date(2026, 1, 5))[0] is shown[0]
    # the day before, the manual then in force alone
    assert dated(result.citations, dt.date(2025, 4, 22)) == tuple(result.citations)


def test_result_json_shows_both(engine):
    after = engine.evaluate("examples/jones.yaml", "2026-01-05").find("chip.family_premium")
    cites = after.as_dict()["citations"]
    assert cites[0]["source"] == "Combined IM Policy Manual"
    assert cites[0]["formerly"]["source"].startswith("Family MO HealthNet (MAGI) Manual")
    assert cites[0]["formerly"]["url"] == "https://dssmanuals.mo.gov/family-mo-healthnet-magi/"
    # no archived citation is listed on its own any more, and none twice
    assert not any(c["source"].startswith("Family MO HealthNet (MAGI) Manual") for c in cites)
    assert len({str(c) for c in cites}) == len(cites)
    before = engine.evaluate("examples/jones.yaml", "2018-06-01").find("chip.family_premium")
    assert all(c["source"] != "Combined IM Policy Manual" for c in before.as_dict()["citations"])


def test_batch_sidecar_gives_the_successor_and_its_archived_citation_one_id(engine):
    import orjson
    from engine.tools.batch_output import CitationIds, RecordEncoder
    # nulls: on 2018-06-01 the premium has no value, and its citations are what is compared
    encoder = RecordEncoder("deciding", ids=CitationIds.of_process(), nulls=True)
    evaluation = engine.evaluate("examples/jones.yaml", "2026-01-05")
    line = orjson.loads(encoder.evaluation(evaluation))
    ids = line["results"][0]["citations"]
    assert all(isinstance(i, str) for i in ids)          # every citation is in the table
    table = encoder.ids.table(ids)
    assert table[ids[0]]["source"] == "Combined IM Policy Manual"
    assert table[ids[0]]["formerly"]["source"].startswith("Family MO HealthNet (MAGI) Manual")
    # the table gives back exactly what `policy eval` prints
    premium = evaluation.find("chip.family_premium").as_dict()["citations"]
    assert [table[i] for i in ids] == premium
    assert len(ids) == len(set(ids))
    # before the archive date the archived citation alone has its own id
    earlier = orjson.loads(encoder.evaluation(engine.evaluate("examples/jones.yaml", "2018-06-01")))
    old = earlier["results"][0]["citations"][0]
    assert "formerly" not in encoder.ids.table([old])[old]
    assert encoder.ids.table([old])[old] == table[ids[0]]["formerly"]


def test_archives_survive_a_bundle(tmp_path):
    """A compiled bundle (the cache every command uses) keeps each citation's archive."""
    import subprocess
    import sys
    out = tmp_path / "rulebooks.bundle"
    subprocess.run([sys.executable, "-m", "engine", "build", "--out", str(out), "--policy", "policy"],
                   check=True, capture_output=True)
    code = ("import json,sys; from engine.api import Engine; "
            "e = Engine.load_bundle(sys.argv[1]); "
            "r = e.evaluate('examples/jones.yaml', '2026-01-05').find('chip.family_premium'); "
            "print(json.dumps(r.as_dict()['citations'][:2]))")
    shown = subprocess.run([sys.executable, "-c", code, str(out)], check=True,
                           capture_output=True, text=True).stdout
    import json
    first, _second = json.loads(shown)
    assert first["source"] == "Combined IM Policy Manual"
    assert first["formerly"]["source"].startswith("Family MO HealthNet (MAGI) Manual")


def test_policy_change_json_gives_each_row_its_recipients(tmp_path):
    import json
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "engine", "change",
                          "examples/mhabd-authorized-representative.yaml", "--before", "2026-03-31",
                          "--after", "2026-04-01", "--name", "msp.level", "--format", "json"],
                         capture_output=True, text=True)
    data = json.loads(out.stdout)
    rows = {row["person"]: row for row in data["results"]}
    assert [r["id"] for r in rows["ruth"]["recipients"]["to"]] == ["ruth", "ar-dana"]
    assert [r["id"] for r in rows["walter"]["recipients"]["not_sent"]] == ["ar-lee"]


def test_case_error_is_located_and_exits_2(tmp_path):
    import subprocess
    import sys
    bad = tmp_path / "two-primaries.yaml"
    bad.write_text("case_id: x\npeople:\n  - id: a\n    age: 70\n    authorized_representatives:\n"
                   "      - {id: p, role: primary}\n      - {id: q, role: primary}\n")
    out = subprocess.run([sys.executable, "-m", "engine", "eval", str(bad), "--as-of", ON],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "E434" in out.stderr and "line 7" in out.stderr.replace(":7:", " line 7 ")
    assert "Traceback" not in out.stderr


def test_recipients_naming_a_rule_of_the_wrong_entity_is_refused(tmp_path):
    import shutil
    from engine.errors import CompileError
    copy_dir = tmp_path / "policy"
    shutil.copytree("policy", copy_dir)
    book = copy_dir / "representatives.yaml"
    book.write_text(book.read_text().replace("representative: receives_notices",
                                             "representative: has_primary"))
    with pytest.raises(CompileError) as info:
        Engine.load(str(copy_dir))
    problem = info.value.problem
    assert problem.code == "E325" and problem.field == "representatives.mhabd_notices.representative"
