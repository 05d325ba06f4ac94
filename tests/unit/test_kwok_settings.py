"""hack/kwok.py without a cluster: the spec.pod it hands out is what every kind accepts, and the
Stages it gives kwok read the annotations it writes."""

import pytest
import yaml
from kwok import DURATION, EXIT_CODE, JITTER, RESULT, RESULT_ENV, STAGE_FILES, STAGES, node_manifest, pod_settings

from mlops_operator.api.common import PodSettings


@pytest.mark.parametrize("settings", [
    pod_settings(),
    pod_settings(None),
    pod_settings("2s", jitter="1s", exit_code=3, result='{"metrics": {"score": $(PARAM_X)}}', annotations={"a": "b"}),
])
def test_the_settings_are_a_valid_spec_pod_with_nothing_dropped(settings):
    # PodSettings ignores unknown keys: the round trip shows that none was.
    assert PodSettings.model_validate(settings).model_dump(by_alias=True, exclude_none=True) == settings


def test_the_settings_select_the_fake_nodes_and_tolerate_their_taint():
    settings = pod_settings("2s", exit_code=3)
    node = node_manifest("kwok-node-0", "10.251.0.1", 110)
    assert settings["nodeSelector"].items() <= node["metadata"]["labels"].items()
    [taint] = node["spec"]["taints"]
    [toleration] = settings["tolerations"]
    assert (toleration["key"], toleration["effect"], toleration["operator"]) == (taint["key"], taint["effect"], "Exists")
    assert settings["annotations"] == {DURATION: "2s", EXIT_CODE: "3"}
    assert "annotations" not in pod_settings(None), "without a duration the pods run until deleted"


def test_every_stage_file_is_a_kwok_stage_and_pod_complete_reads_the_annotations():
    stages = {name: yaml.safe_load((STAGES / name).read_text()) for name in STAGE_FILES}
    assert {s["kind"] for s in stages.values()} == {"Stage"}
    assert len({s["metadata"]["name"] for s in stages.values()}) == len(stages)
    assert sorted(p.name for p in STAGES.glob("*.yaml")) == sorted(STAGE_FILES), "a Stage file kwok is not given"
    complete = (STAGES / "pod-complete.yaml").read_text()
    for name in (DURATION, JITTER, EXIT_CODE, RESULT, RESULT_ENV):
        assert name in complete
    selector = stages["pod-complete.yaml"]["spec"]["selector"]["matchExpressions"]
    assert {"key": f'.metadata.annotations["{DURATION}"]', "operator": "Exists"} in selector
