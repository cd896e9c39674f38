"""Every submission field refuses garbage with a message that names the field and the rule."""

import pytest

from observatory.labs.validation import Invalid, parse_submission

GOOD = {"hub_id": "HuggingFaceTB/SmolLM2-135M-Instruct"}


def errors_for(**fields):
    with pytest.raises(Invalid) as caught:
        parse_submission({**GOOD, **fields})
    return caught.value.errors


def test_it_accepts_a_plain_submission_with_defaults():
    req = parse_submission({"hub_id": "acme/model.v2_b-1", "revision": "refs/pr/3", "probes": ["tooling", "benchmark"],
                            "visibility": "public", "config": {"benchmark": {"limit": 5}}})
    assert req.probes == ("benchmark", "tooling")
    assert req.config == {"benchmark": {"limit": 5}}
    assert parse_submission(GOOD).visibility == "private" and parse_submission(GOOD).probes == ("tooling",)


@pytest.mark.parametrize("hub_id", [
    "", "gpt2", "a/b/c", "../etc/passwd", "acme/../secret", "acme/..", "/abs/path", "acme/", "/model",
    "acme/mo del", "acme/model\n", "acme/mo\x00del", "acme/mo\tdel", "acme/mo\u200bdel", "acme/mödel",
    "-acme/model", "acme/model-", "acme/model.", "acme/mo--del", "acme/model.git", "acme\\model",
    "a" * 97 + "/b", "acme/" + "m" * 97, "x" * 10_000, 42, None, ["acme/model"], {"id": "acme/model"},
    "acme/model\ud800", "acme/%2e%2e",
])
def test_it_refuses_bad_hub_ids_by_name(hub_id):
    errors = errors_for(hub_id=hub_id)
    assert set(errors) == {"hub_id"}
    assert errors["hub_id"]


@pytest.mark.parametrize("revision", [
    "main branch", "v1..2", "../main", "refs//heads", "main/", "main.lock", "main\x07", "@{-1}", "r" * 201,
    "-rf", 7, ["main"], {"a": 1}, "mäin",
])
def test_it_refuses_bad_revisions(revision):
    assert set(errors_for(revision=revision)) == {"revision"}


@pytest.mark.parametrize("probes", [[], "everything", ["tooling", "tooling"], ["rm -rf /"], [1], [None],
                                    ["tooling", "benchmark", "finetune", "tooling"], {"tooling": True}, 3])
def test_it_refuses_bad_probe_lists(probes):
    assert set(errors_for(probes=probes)) == {"probes"}


@pytest.mark.parametrize("visibility", ["everyone", "PUBLIC", 1, True, ["public"]])
def test_it_refuses_unknown_visibility(visibility):
    assert set(errors_for(visibility=visibility)) == {"visibility"}


@pytest.mark.parametrize("token", ["short", "hf_" + "x" * 300, "hf_has space", "hf_\x00abcdefgh", 12345678, ["hf_abc"]])
def test_it_refuses_malformed_access_tokens(token):
    assert set(errors_for(access_token=token)) == {"access_token"}


def test_it_lets_a_lab_ask_for_a_public_item_set():
    req = parse_submission({**GOOD, "probes": ["benchmark"], "config": {"benchmark": {"item_set": "gsm8k", "limit": 30}}})
    assert req.config == {"benchmark": {"item_set": "gsm8k", "limit": 30}}


@pytest.mark.parametrize("config", [
    {"benchmark": {"limit": 0}}, {"benchmark": {"limit": 10_001}}, {"benchmark": {"limit": "5"}},
    {"benchmark": {"limit": True}}, {"benchmark": {"limit": 2.5}}, {"benchmark": {"trust_remote_code": True}},
    {"tooling": {"x": 1}}, {"finetune": {}}, {"benchmark": []}, [], "limit=5",
    {"benchmark": {"item_set": "hellaswag-v9"}}, {"benchmark": {"item_set": ["gsm8k"]}}, {"benchmark": {"item_set": 1}},
])
def test_it_refuses_config_outside_the_settable_knobs(config):
    probes = ["tooling", "benchmark"] if not (isinstance(config, dict) and "finetune" in config) else ["tooling"]
    assert set(errors_for(probes=probes, config=config)) == {"config"}


@pytest.mark.parametrize("body", [None, [], "acme/model", 42, {"hub_id": "acme/model", "admin": True},
                                  {"hub_id": "acme/model", "lab": "lab-b"}])
def test_it_refuses_bodies_that_are_not_the_submission_object(body):
    with pytest.raises(Invalid) as caught:
        parse_submission(body)
    assert "body" in caught.value.errors


def test_it_reports_every_bad_field_at_once():
    errors = errors_for(hub_id="../x", revision="a b", probes=["nope"], visibility="world")
    assert set(errors) == {"hub_id", "revision", "probes", "visibility"}
