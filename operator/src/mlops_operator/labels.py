"""Label and annotation keys the operator puts on its children (and their pods)."""

from .api.common import GROUP

MANAGED_BY = "app.kubernetes.io/managed-by"
OPERATOR = "mlops-operator"
MANAGED_SELECTOR = f"{MANAGED_BY}={OPERATOR}"
FIELD_MANAGER = OPERATOR  # the operator's server-side apply manager: its entry in managedFields says what it owns
OWNER_UID = f"{GROUP}/owner-uid"  # children are selected by their owner's UID, never by its name
EXPERIMENT = f"{GROUP}/experiment"  # the owner's name as a label value (logic.names.label_value), for people
DATASET = f"{GROUP}/dataset"
MODEL = f"{GROUP}/model"
RUN = f"{GROUP}/run"
TRIAL = f"{GROUP}/trial"
GENERATION = f"{GROUP}/generation"
ROUND = f"{GROUP}/round"
PARAMETERS_ANNOTATION = f"{GROUP}/parameters"
# A hash of the spec parts a trial's pod is built from besides what the run trains (pod settings).
SETTINGS_ANNOTATION = f"{GROUP}/trial-settings"
# On an evaluation Job that scores the holder a version is compared with: the holder's name.
BASELINE_ANNOTATION = f"{GROUP}/baseline"
JOB_CONTROLLER_UID = "batch.kubernetes.io/controller-uid"  # set by the Job controller on a Job's pods
DEPLOYMENT = f"{GROUP}/deployment"
# On a server Deployment: the full name of the Model it serves (label values may be shortened).
MODEL_ANNOTATION = f"{GROUP}/model"
# The annotations of the community's `kubernetes-pods` scrape job (Prometheus' example
# configuration, the prometheus-community chart): which pods to scrape, on which port and path.
PROMETHEUS_SCRAPE = "prometheus.io/scrape"
PROMETHEUS_PORT = "prometheus.io/port"
PROMETHEUS_PATH = "prometheus.io/path"
