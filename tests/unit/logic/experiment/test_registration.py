"""registerModel: a finished run's best trial becomes a Model version, exactly once per run."""

from experiments import NEW_DIGEST, Sweep, dataset, spec

from mlops_operator.api.model import ModelSpec

REGISTER = {"modelName": "cancer", "aliases": ["champion"],
            "validation": {"dataset": {"name": "data"}, "thresholds": [{"metric": "auc", "min": 0.8}]}}


def finished_sweep(**extra) -> Sweep:
    sweep = Sweep(spec=spec(max_trials=2, parallelism=2, artifactRoot="file:///models", registerModel=REGISTER,
                            **extra))
    sweep.step()
    sweep.finish("exp-r1-t0", {"auc": 0.81, "accuracy": 0.7})
    sweep.finish("exp-r1-t1", {"auc": 0.93, "accuracy": 0.9})
    return sweep


def test_the_best_trial_of_a_finished_run_becomes_a_model_version_with_its_lineage():
    sweep = finished_sweep()
    sweep.settle()
    assert list(sweep.models) == ["exp-v1"]
    model = sweep.models["exp-v1"]
    parsed = ModelSpec.model_validate(model["spec"])
    assert (parsed.model_name, parsed.version, parsed.aliases) == ("cancer", "1", ["champion"])
    assert parsed.artifact.uri == "file:///models/exp/r1-t1/model.joblib"
    lineage = parsed.lineage
    assert (lineage.experiment, lineage.run, lineage.trial, lineage.dataset) == ("exp", 1, "exp-r1-t1", "data")
    assert lineage.dataset_digest == sweep.status["dataset"]["digest"]
    assert lineage.metrics == {"auc": 0.93, "accuracy": 0.9}
    assert lineage.parameters == {"x": 1}
    assert lineage.trainer_image == "python:3.11"
    assert parsed.validation.thresholds[0].metric == "auc"
    assert model["metadata"]["ownerReferences"][0]["uid"] == "uid-exp"
    assert sweep.status["runs"][-1]["model"] == "exp-v1"
    assert sweep.reasons().count("ModelRegistered") == 1


def test_registration_happens_once_even_when_the_status_patch_was_lost():
    sweep = finished_sweep()
    first = sweep.step(patch_status=False)  # the operator dies after creating the Model
    again = sweep.step()
    assert [c.manifest["metadata"]["name"] for c in first.create + again.create] == ["exp-v1", "exp-v1"]
    sweep.settle()
    assert list(sweep.models) == ["exp-v1"]
    assert not sweep.step().create


def test_a_model_deleted_after_registration_is_not_made_again():
    sweep = finished_sweep()
    sweep.settle()
    sweep.models.clear()
    sweep.settle()
    assert not sweep.models


def test_a_new_run_on_new_data_registers_the_next_version():
    sweep = finished_sweep(trigger={"onDatasetChange": True})
    sweep.settle()
    sweep.dataset = dataset(digest=NEW_DIGEST)
    sweep.step()
    sweep.finish("exp-r2-t0", {"auc": 0.95}, digest=NEW_DIGEST)
    sweep.finish("exp-r2-t1", {"auc": 0.9}, digest=NEW_DIGEST)
    sweep.settle()
    assert sorted(sweep.models) == ["exp-v1", "exp-v2"]
    assert sweep.models["exp-v2"]["spec"]["version"] == "2"
    assert sweep.models["exp-v2"]["spec"]["lineage"]["datasetDigest"] == NEW_DIGEST
    assert [r.get("model") for r in sweep.status["runs"]] == ["exp-v1", "exp-v2"]


def test_without_an_artifact_nothing_is_registered_and_it_says_so_once():
    sweep = Sweep(spec=spec(max_trials=1, parallelism=1, registerModel=REGISTER))
    sweep.step()
    sweep.finish("exp-r1-t0", {"auc": 0.9})
    sweep.settle()
    assert not sweep.models
    assert sweep.reasons().count("ModelNotRegistered") == 1


def test_a_run_where_every_trial_failed_registers_nothing():
    sweep = Sweep(spec=spec(max_trials=1, parallelism=1, artifactRoot="file:///m", registerModel=REGISTER))
    sweep.step()
    sweep.finish("exp-r1-t0", failed="BackoffLimitExceeded")
    sweep.settle()
    assert not sweep.models
