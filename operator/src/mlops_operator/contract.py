"""What the operator and the pods it starts agree on: environment variable names and the result
document (DESIGN.md section 3). No heavy imports: both sides use it."""

import re

RESULT_LIMIT_BYTES = 4096  # the kubelet's cap on a termination message
DEFAULT_RESULT_PATH = "/dev/termination-log"

# Set on every trial, validation and evaluation pod.
DATASET_URI = "MLOPS_DATASET_URI"
DATASET_FORMAT = "MLOPS_DATASET_FORMAT"
DATASET_DIGEST = "MLOPS_DATASET_DIGEST"  # the digest the operator pinned; empty for validation
DATASET_SPEC = "MLOPS_DATASET_SPEC"  # the Dataset's spec as JSON (schema, splits, validation)
# Set on trial pods.
EXPERIMENT = "MLOPS_EXPERIMENT"
TRIAL = "MLOPS_TRIAL"
ARTIFACT_URI = "MLOPS_ARTIFACT_URI"  # where the trainer should save its model, when the Experiment says
PARAMETERS = "MLOPS_PARAMETERS"  # all parameters as JSON; each also as PARAM_<NAME>


def parameter_env_name(name: str) -> str:
    """PARAM_ + the name upper-cased, with anything but letters, digits and _ as _."""
    return "PARAM_" + re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
