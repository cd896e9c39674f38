"""A lab's private results stay off the public model card until the lab publishes them."""

import pytest

from observatory.catalog.models import HubModel

pytestmark = pytest.mark.django_db

RESULT = {"metrics": {"accuracy": 0.8123, "accuracy_norm": 0.5, "exact_match": 0.25, "items": 4,
                      "mc_tokens_per_second": 10.0, "item_set_hash": "f" * 64},
          "device": {"type": "cpu", "dtype": "float32"}}


def test_it_keeps_private_results_off_the_model_card_until_published(client, api_a, labs, make_submission):
    model = HubModel.objects.create(hub_id="acme/model-1")
    submission = make_submission(labs["a"], hub_id="acme/model-1", status="succeeded", probes=("benchmark",))
    submission.probe_runs.update(result=RESULT, model=model)
    assert "81.2 %" not in client.get("/models/acme/model-1").content.decode()
    assert api_a.post(f"/api/submissions/{submission.pk}/publish").status_code == 200
    assert "81.2 %" in client.get("/models/acme/model-1").content.decode()
