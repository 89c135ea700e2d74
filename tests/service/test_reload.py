"""Reloading rulebooks: checked like `policy check`, swapped atomically, refused when broken."""

from __future__ import annotations

import shutil

import pytest
from starlette.testclient import TestClient

from engine.service import ServiceConfig, create_app
from engine.service.rulebooks import RulebooksRefused, fingerprint, load

from .conftest import POLICY
from .test_endpoints import jones_json


@pytest.fixture()
def policy_copy(tmp_path):
    target = tmp_path / "policy"
    shutil.copytree(POLICY, target)
    return target


def test_fingerprint_changes_with_any_file_and_only_then(policy_copy):
    first, files = fingerprint([str(policy_copy)])
    assert fingerprint([str(policy_copy)])[0] == first
    assert "fpl.yaml" in {f["file"] for f in files}
    assert any(f["file"].endswith(".j2") for f in files)     # notice templates count too
    template = next(policy_copy.glob("notices/*.j2"))
    template.write_text(template.read_text() + "\n")
    assert fingerprint([str(policy_copy)])[0] != first


def test_a_set_that_fails_policy_check_is_refused(policy_copy):
    fpl = policy_copy / "fpl.yaml"
    fpl.write_text(fpl.read_text().replace("rulebook: fpl", "rulebook: fpl\nsurprise: true", 1))
    with pytest.raises(RulebooksRefused) as refused:
        load([str(policy_copy)])
    assert any(p.file and p.file.endswith("fpl.yaml") for p in refused.value.problems)


def test_admin_reload_is_off_by_default(client):
    response = client.post("/v1/admin/reload")
    assert response.status_code == 404 and response.json()["code"] == "E610"


def test_admin_reload_swaps_a_good_set_and_keeps_the_old_one_on_a_bad_one(policy_copy):
    config = ServiceConfig(policy=(str(policy_copy),), admin_reload=True)
    with TestClient(create_app(config, load([str(policy_copy)], run_check=False))) as client:
        old = client.get("/v1/rulebooks").json()["fingerprint"]
        before = client.post("/v1/evaluate", content=jones_json()).json()

        fpl = policy_copy / "fpl.yaml"
        good_text = fpl.read_text()
        fpl.write_text(good_text.replace("rulebook: fpl", "rulebook: fpl\nsurprise: true", 1))
        refused = client.post("/v1/admin/reload")
        assert refused.status_code == 422, refused.text[:500]
        body = refused.json()
        assert body["code"] == "E609"
        assert any(e.get("file", "").endswith("fpl.yaml") for e in body["errors"])
        assert refused.headers["x-rulebook-fingerprint"] == old
        still = client.post("/v1/evaluate", content=jones_json())
        assert still.headers["x-rulebook-fingerprint"] == old and still.json() == before

        fpl.write_text(good_text + "\n# a comment: a new fingerprint, the same answers\n")
        accepted = client.post("/v1/admin/reload")
        assert accepted.status_code == 200, accepted.text[:500]
        new = accepted.json()["fingerprint"]
        assert new != old and client.get("/healthz").json()["fingerprint"] == new
        after = client.post("/v1/evaluate", content=jones_json())
        assert after.headers["x-rulebook-fingerprint"] == new and after.json() == before
        metrics = client.get("/metrics").text
        assert 'policy_rulebook_reloads_total{outcome="refused"} 1' in metrics
        assert 'policy_rulebook_reloads_total{outcome="ok"} 1' in metrics


def test_admin_reload_refuses_with_several_workers(rulebook_set):
    config = ServiceConfig(admin_reload=True, workers=2)
    with TestClient(create_app(config, rulebook_set)) as client:
        response = client.post("/v1/admin/reload")
        assert response.status_code == 409 and "SIGHUP" in response.json()["detail"]


def test_a_reload_lets_the_replaced_rulebooks_be_freed(policy_copy):
    """Definitions computed often get generated functions, held in a table by identity: a
    reload forgets them, so the replaced rulebooks are not kept alive by it."""
    import gc
    import weakref

    from engine.service.rulebooks import Rulebooks
    from engine.runtime import state

    rulebooks = Rulebooks(load([str(policy_copy)], run_check=False), run_check=False)
    engine = rulebooks.current.engine
    case = engine.read_case(str(POLICY.parent / "examples" / "jones.yaml"))
    for _ in range(state.WARM_AFTER + 2):             # warm: generated functions made
        for result in engine.evaluate(case).results:
            result.citations
    replaced = [weakref.ref(rule) for rule in engine.program.rules.values()]
    del engine, case, result
    rulebooks.reload()
    gc.collect()
    assert [ref for ref in replaced if ref() is not None] == []
    assert rulebooks.current.engine.program.rules      # the new set is served
