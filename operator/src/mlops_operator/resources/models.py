"""The Model version an Experiment registers from a finished run's best trial."""

from typing import Any

from .. import labels
from ..api.common import API_VERSION
from ..api.experiment import ExperimentSpec
from ..api.model import Lineage
from .meta import Meta, owner_reference
from .names import label_value, registered_model_name


def registered_model(experiment: Meta, spec: ExperimentSpec, run: int, best: dict[str, Any],
                     dataset: dict[str, Any]) -> dict[str, Any]:
    """Version <run> of registerModel.modelName: the best trial's artifact with its lineage, the
    aliases and gate registerModel asks for. Owned by the Experiment; its name is fixed by the run,
    so a create repeated after a restart is a 409, never a second version."""
    register = spec.register_model
    assert register is not None, "only an Experiment with registerModel registers"
    lineage = Lineage(experiment=experiment.name, run=run, trial=best.get("name"), dataset=dataset.get("name"),
                      dataset_digest=dataset.get("digest"), parameters=best.get("parameters"),
                      metrics=best.get("metrics"), trainer_image=spec.trainer.image)
    model_spec: dict[str, Any] = {
        "modelName": register.model_name,
        "version": str(run),
        "artifact": {"uri": best["artifactUri"], "format": "sklearn"},
        "lineage": lineage.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
    if register.aliases:
        model_spec["aliases"] = list(register.aliases)
    if register.validation:
        model_spec["validation"] = register.validation.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {
        "apiVersion": API_VERSION,
        "kind": "Model",
        "metadata": {
            "name": registered_model_name(experiment.name, run),
            "namespace": experiment.namespace,
            "labels": {labels.MANAGED_BY: labels.OPERATOR, labels.OWNER_UID: experiment.uid,
                       labels.EXPERIMENT: label_value(experiment.name), labels.RUN: str(run)},
            "ownerReferences": [owner_reference(experiment)],
        },
        "spec": model_spec,
    }
