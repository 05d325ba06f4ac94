"""Pod templates: restricted by default, with the user's settings merged in."""

from mlops_operator.api.common import Container, PodSettings
from mlops_operator.resources.pods import container, pod_template


def test_defaults_satisfy_pod_security_restricted():
    template = pod_template(container(Container(image="python:3.11"), "main", {}, None), None, {"l": "1"})
    spec = template["spec"]
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                       "seccompProfile": {"type": "RuntimeDefault"}}
    (main,) = spec["containers"]
    assert main["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
    assert "volumes" not in spec and "hostNetwork" not in spec


def test_user_settings_reach_the_pod_and_the_operators_labels_win():
    settings = PodSettings.model_validate({
        "labels": {"kueue.x-k8s.io/queue-name": "gpu", "mlops.dev/owner-uid": "forged"},
        "annotations": {"team": "ml"}, "serviceAccountName": "trainer", "imagePullSecrets": [{"name": "regcred"}],
        "nodeSelector": {"gpu": "a100"}, "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"x": 1}}, "priorityClassName": "batch",
        "securityContext": {"runAsUser": 1000, "fsGroup": 1000},
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}],
    })
    user = Container.model_validate({
        "image": "trainer:1", "securityContext": {"readOnlyRootFilesystem": True},
        "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {"name": "MLOPS_TRIAL", "value": "forged"}],
        "envFrom": [{"configMapRef": {"name": "cfg"}}], "volumeMounts": [{"name": "data", "mountPath": "/data"}]})
    template = pod_template(container(user, "main", {"MLOPS_TRIAL": "t-1"}, None, [{"secretRef": {"name": "creds"}}]),
                            settings, {"mlops.dev/owner-uid": "uid-1"})
    spec, main = template["spec"], template["spec"]["containers"][0]
    assert template["metadata"] == {"labels": {"kueue.x-k8s.io/queue-name": "gpu", "mlops.dev/owner-uid": "uid-1"},
                                    "annotations": {"team": "ml"}}
    assert spec["serviceAccountName"] == "trainer" and spec["automountServiceAccountToken"] is True
    assert spec["imagePullSecrets"] == [{"name": "regcred"}] and spec["priorityClassName"] == "batch"
    assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}]
    assert spec["securityContext"]["runAsUser"] == 1000 and spec["securityContext"]["runAsNonRoot"] is True
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert main["env"] == [{"name": "MLOPS_TRIAL", "value": "t-1"},
                           {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    assert main["envFrom"] == [{"secretRef": {"name": "creds"}}, {"configMapRef": {"name": "cfg"}}]
    assert main["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]


def test_the_operators_values_are_escaped_for_the_kubelet():
    built = container(Container(image="x"), "main", {"A": "$(HOME) and $$(X)"}, None)
    assert built["env"][0]["value"] == "$$(HOME) and $$$(X)"
