"""Label and annotation keys the operator puts on its children."""

from .api.common import GROUP

MANAGED_BY = "app.kubernetes.io/managed-by"
OPERATOR = "mlops-operator"
EXPERIMENT = f"{GROUP}/experiment"
RUN = f"{GROUP}/run"
TRIAL = f"{GROUP}/trial"
DATASET = f"{GROUP}/dataset"
GENERATION = f"{GROUP}/generation"
ROUND = f"{GROUP}/round"
PARAMETERS_ANNOTATION = f"{GROUP}/parameters"
RESULT_ANNOTATION = f"{GROUP}/result"
