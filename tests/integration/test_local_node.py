"""Pods on the local node run as real processes, through the real scheduler and controllers."""

import ipaddress
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import localcluster
from localnode.bridges import lock_bridge
from localnode.images import environment_paths
from support import get_json, wait_for

pytestmark = pytest.mark.cluster


@pytest.fixture(autouse=True)
def local_node_only(cluster):
    if not cluster.local:
        pytest.skip("these tests look at the processes of the project's local node")


def apply(cluster, namespace, manifest: str):
    cluster.kubectl("apply", "-f", "-", namespace=namespace, input=manifest)


def pods(cluster, namespace, selector: str) -> list[dict]:
    return get_json(cluster, namespace, "pods", "-l", selector)["items"]


def pod(cluster, namespace, name) -> dict:
    return get_json(cluster, namespace, "pod", name)


def container_status(pod_obj: dict, index: int = 0) -> dict:
    return (pod_obj.get("status", {}).get("containerStatuses") or [{}])[index]


def pid_of(pod_obj: dict) -> int:
    return int(container_status(pod_obj)["containerID"].removeprefix("local://"))


def job_condition(cluster, namespace, name, kind):
    job = get_json(cluster, namespace, "job", name)
    return any(c["type"] == kind and c["status"] == "True" for c in job.get("status", {}).get("conditions", []))


def pod_in_phase(cluster, namespace, name, *phases: str, timeout: float = 30) -> dict:
    return wait_for(lambda: (p := pod(cluster, namespace, name))["status"].get("phase") in phases and p, timeout,
                    f"pod {name} in phase {' or '.join(phases)}")


def running_pod(cluster, namespace, name) -> dict:
    return wait_for(lambda: (p := pod(cluster, namespace, name)) and "running" in container_status(p).get("state", {})
                    and p, 60, f"pod {name} running")


def test_job_reports_its_termination_message(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: batch/v1
kind: Job
metadata: {name: report}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: trainer
        image: python:3.11
        command: [python, -c, 'import json; open("/dev/termination-log", "w").write(json.dumps({"metrics": {"roc_auc": 0.91}}))']
""")
    wait_for(lambda: job_condition(cluster, namespace, "report", "Complete"), 60, "the Job to complete")
    [finished] = pods(cluster, namespace, "job-name=report")
    terminated = container_status(finished)["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
    assert json.loads(terminated["message"]) == {"metrics": {"roc_auc": 0.91}}
    assert finished["status"]["phase"] == "Succeeded"


def test_failing_job_is_retried_once_then_fails_with_its_exit_code(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: batch/v1
kind: Job
metadata: {name: failing}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: trainer, image: python:3.11, command: [python, -c, 'import sys; print("bad data"); sys.exit(3)']}
""")
    wait_for(lambda: job_condition(cluster, namespace, "failing", "Failed"), 90, "the Job to fail")
    attempts = pods(cluster, namespace, "job-name=failing")
    assert len(attempts) == 2
    for attempt in attempts:
        assert attempt["status"]["phase"] == "Failed"
        assert container_status(attempt)["state"]["terminated"]["exitCode"] == 3
        assert container_status(attempt)["state"]["terminated"]["reason"] == "Error"
    assert cluster.kubectl("logs", attempts[0]["metadata"]["name"], namespace=namespace).stdout == "bad data\n"


SERVER = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web, variant: {name}}}}}
  template:
    metadata: {{labels: {{app: web, variant: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: http
        image: python:3.11
        command: [python, -m, http.server, "8080", --bind, "$(POD_IP)"]
        env: [{{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: "{probe_path}", port: http}}, periodSeconds: 1}}
"""


def test_service_endpoints_list_exactly_the_ready_pods_and_each_answers(cluster, namespace):
    apply(cluster, namespace, SERVER.format(name="ready", replicas=2, probe_path="/"))
    apply(cluster, namespace, SERVER.format(name="unready", replicas=1, probe_path="/missing"))
    apply(cluster, namespace, """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
""")
    cluster.kubectl("rollout", "status", "deployment/ready", "--timeout=60s", namespace=namespace)
    ready_ips = {p["status"]["podIP"] for p in pods(cluster, namespace, "variant=ready")}
    unready_ip = wait_for(lambda: [p["status"].get("podIP") for p in pods(cluster, namespace, "variant=unready")
                                   if "running" in container_status(p).get("state", {})], 60, "the unready pod running")[0]

    def endpoints():
        slices = get_json(cluster, namespace, "endpointslices", "-l", "kubernetes.io/service-name=web")["items"]
        listed = {(e["addresses"][0], e["conditions"]["ready"]) for s in slices for e in s.get("endpoints") or []}
        # The EndpointSlice controller can list a pod before it copies the pod's readiness.
        return listed if len(listed) == 3 and {address for address, ready in listed if ready} == ready_ips else None

    listed = wait_for(endpoints, 60, "the EndpointSlice to list every pod, the ready ones as ready")
    assert (unready_ip, False) in listed
    for address in ready_ips:
        with urllib.request.urlopen(f"http://{address}:8080/", timeout=5) as response:
            assert response.status == 200


def test_deleting_a_pod_ends_its_process_within_the_grace_period(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: python:3.11
    command: [python, -c, 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ignoring SIGTERM", flush=True); time.sleep(600)']
""")
    pid = pid_of(running_pod(cluster, namespace, "stubborn"))
    wait_for(lambda: "ignoring SIGTERM" in cluster.kubectl("logs", "stubborn", namespace=namespace).stdout, 30,
             "the handler to be installed")
    started = time.monotonic()
    cluster.kubectl("delete", "pod", "stubborn", "--wait=false", namespace=namespace)
    wait_for(lambda: not localcluster._alive(pid), 15, "the process to end")
    elapsed = time.monotonic() - started
    assert elapsed >= 1.5, f"SIGTERM was ignored, so only SIGKILL after the 2s grace ends it (took {elapsed:.1f}s)"
    wait_for(lambda: cluster.kubectl("get", "pod", "stubborn", namespace=namespace, check=False).returncode != 0,
             15, "the pod object to be gone")


def test_deleting_a_job_or_deployment_ends_all_their_processes(cluster, namespace):
    apply(cluster, namespace, SERVER.format(name="servers", replicas=2, probe_path="/"))
    apply(cluster, namespace, """
apiVersion: batch/v1
kind: Job
metadata: {name: sleepers}
spec:
  parallelism: 2
  completions: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: python:3.11, command: [python, -c, 'import time; time.sleep(600)']}]
""")

    def all_running():
        found = pods(cluster, namespace, "variant=servers") + pods(cluster, namespace, "job-name=sleepers")
        running = [p for p in found if "running" in container_status(p).get("state", {})]
        return running if len(running) == 4 else None

    pids = [pid_of(p) for p in wait_for(all_running, 60, "4 running pods")]
    cluster.kubectl("delete", "deployment", "servers", "--wait=false", namespace=namespace)
    cluster.kubectl("delete", "job", "sleepers", "--wait=false", namespace=namespace)
    wait_for(lambda: not any(localcluster._alive(pid) for pid in pids), 30, "every process to end")
    wait_for(lambda: not get_json(cluster, namespace, "pods")["items"], 30, "the garbage collector to remove the pods")


def test_an_image_without_local_runtime_waits_with_a_clear_reason(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: v1
kind: Pod
metadata: {name: foreign}
spec:
  containers: [{name: main, image: "nginx:1.27"}]
""")
    waiting = wait_for(lambda: container_status(pod(cluster, namespace, "foreign")).get("state", {}).get("waiting", {})
                       .get("reason") == "ImageNotRunnableLocally" and container_status(pod(cluster, namespace, "foreign")),
                       30, "the Waiting reason")
    assert "nginx:1.27" in waiting["state"]["waiting"]["message"]
    assert pod(cluster, namespace, "foreign")["status"]["phase"] == "Pending"


def test_environment_and_volumes_reach_the_container(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast, threshold: "0.8", "app.yaml": "replicas: 2\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: credentials}
stringData: {token: s3cr3t}
---
apiVersion: v1
kind: Pod
metadata: {name: configured, labels: {team: ml}}
spec:
  restartPolicy: Never
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: config, configMap: {name: settings, items: [{key: app.yaml, path: app.yaml}]}}
  - {name: secret, secret: {secretName: credentials}}
  initContainers:
  - {name: prepare, image: python:3.11, command: [python, -c, 'open("/scratch/from-init", "w").write("init ran")'],
     volumeMounts: [{name: scratch, mountPath: /scratch}]}
  containers:
  - name: main
    image: python:3.11
    workingDir: /scratch
    command: [python, -c]
    args:
    - |
      import json, os
      env = {k: os.environ.get(k) for k in ("MODE", "CFG_threshold", "TOKEN", "POD_NAME", "NAMESPACE", "TEAM", "POD_IP", "GREETING")}
      files = {p: open(p).read() for p in ("from-init", "/etc/app/app.yaml", "/etc/secret/token")}
      open("/dev/termination-log", "w").write(json.dumps({"env": env, "files": files, "cwd": os.getcwd()}))
    env:
    - {name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: credentials, key: token}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: TEAM, valueFrom: {fieldRef: {fieldPath: "metadata.labels['team']"}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: GREETING, value: "hello $(POD_NAME)"}
    envFrom: [{prefix: CFG_, configMapRef: {name: settings}}]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: config, mountPath: /etc/app, readOnly: true}
    - {name: secret, mountPath: /etc/secret, readOnly: true}
""")
    done = pod_in_phase(cluster, namespace, "configured", "Succeeded", "Failed", timeout=60)
    assert done["status"]["phase"] == "Succeeded", done["status"]
    report = json.loads(container_status(done)["state"]["terminated"]["message"])
    assert report["env"] == {"MODE": "fast", "CFG_threshold": "0.8", "TOKEN": "s3cr3t", "POD_NAME": "configured",
                             "NAMESPACE": namespace, "TEAM": "ml", "POD_IP": done["status"]["podIP"],
                             "GREETING": "hello configured"}
    assert report["files"] == {"from-init": "init ran", "/etc/app/app.yaml": "replicas: 2\n",
                               "/etc/secret/token": "s3cr3t"}
    assert report["cwd"] == "/scratch"
    assert done["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


REPO = Path(__file__).resolve().parents[2]


def test_volumes_over_tmp_and_over_the_images_files_hide_neither_other_volumes_nor_the_image(cluster, namespace):
    # The operator's chart mounts an emptyDir on /tmp (read-only root filesystem); the node keeps its
    # pod folders under the cluster's state dir, and CI may check the repository out under /tmp. A
    # container must still get its later volumes, its interpreter and the project, and see /tmp empty.
    apply(cluster, namespace, f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{mode: fast}}
---
apiVersion: v1
kind: Pod
metadata: {{name: covered}}
spec:
  restartPolicy: Never
  volumes:
  - {{name: tmp, emptyDir: {{}}}}
  - {{name: checkout, emptyDir: {{}}}}
  - {{name: config, configMap: {{name: settings}}}}
  containers:
  - name: main
    image: ghcr.io/mlops-operator/operator:test
    command: [python, -c]
    args:
    - |
      import json, os, mlops_operator
      open("/tmp/scratch", "w").write("written")
      report = {{"tmp": sorted(os.listdir("/tmp")), "mode": open("/etc/app/mode").read(),
                "project": mlops_operator.__file__.startswith({json.dumps(str(REPO))})}}
      open("/dev/termination-log", "w").write(json.dumps(report))
    volumeMounts:
    - {{name: tmp, mountPath: /tmp}}
    - {{name: checkout, mountPath: {json.dumps(str(REPO))}}}
    - {{name: config, mountPath: /etc/app, readOnly: true}}
""")
    done = pod_in_phase(cluster, namespace, "covered", "Succeeded", "Failed", timeout=60)
    assert done["status"]["phase"] == "Succeeded", container_status(done)
    report = json.loads(container_status(done)["state"]["terminated"]["message"])
    # Image folders that lived under /tmp are bound back in, as mount points inside the emptyDir.
    image_roots = {Path(p).relative_to("/tmp").parts[0] for p in environment_paths(sys.executable)
                   if Path(p).is_relative_to("/tmp")}
    assert report == {"tmp": sorted({"scratch", *image_roots}), "mode": "fast", "project": True}


def test_a_volume_kind_the_node_cannot_honour_fails_the_pod(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: v1
kind: Pod
metadata: {name: claims}
spec:
  volumes: [{name: data, nfs: {server: nfs.example.org, path: /exports}}]
  containers: [{name: main, image: python:3.11, command: [python, -c, 'pass'], volumeMounts: [{name: data, mountPath: /data}]}]
""")
    failed = pod_in_phase(cluster, namespace, "claims", "Failed")
    assert failed["status"]["reason"] == "VolumeNotSupportedLocally"
    assert "volume 'data' is of kind nfs" in failed["status"]["message"]


def test_active_deadline_ends_the_pod(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 2
  containers: [{name: main, image: python:3.11, command: [python, -c, 'import time; time.sleep(600)']}]
""")
    failed = pod_in_phase(cluster, namespace, "slow", "Failed")
    assert failed["status"]["reason"] == "DeadlineExceeded"
    assert container_status(failed)["state"]["terminated"]["reason"] == "DeadlineExceeded"


def test_failed_liveness_probe_restarts_the_container(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: v1
kind: Pod
metadata: {name: unhealthy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: python:3.11
    command: [python, -c, 'import time; print("up", flush=True); time.sleep(600)']
    livenessProbe: {tcpSocket: {port: 9999}, periodSeconds: 1, failureThreshold: 2}
""")
    restarted = wait_for(lambda: container_status(p := pod(cluster, namespace, "unhealthy")).get("restartCount", 0) >= 1
                         and p, 30, "a restart")
    last = container_status(restarted)["lastState"]["terminated"]
    assert last["exitCode"] == 137 or last["exitCode"] == 143
    assert cluster.kubectl("logs", "unhealthy", namespace=namespace).stdout.startswith("up")


def test_a_missing_config_map_holds_the_container_until_it_exists(cluster, namespace):
    apply(cluster, namespace, """
apiVersion: v1
kind: Pod
metadata: {name: patient}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: python:3.11
    command: [python, -c, 'import os; open("/dev/termination-log", "w").write(os.environ["MODE"])']
    env: [{name: MODE, valueFrom: {configMapKeyRef: {name: late, key: mode}}}]
""")
    waiting = wait_for(lambda: container_status(p := pod(cluster, namespace, "patient")).get("state", {}).get("waiting", {})
                       .get("reason") == "CreateContainerConfigError" and p, 30, "the config error")
    assert container_status(waiting)["state"]["waiting"]["message"] == "ConfigMap 'late' not found"
    apply(cluster, namespace, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\ndata: {mode: ready}\n")
    done = pod_in_phase(cluster, namespace, "patient", "Succeeded")
    assert container_status(done)["state"]["terminated"]["message"] == "ready"


def pod_network(cluster) -> ipaddress.IPv4Network:
    """The local node's pod CIDR, read from its bridge (the gateway holds the first address)."""
    state = localcluster.ClusterState.load(Path(cluster.kubeconfig).parent)
    bridge = state.node_identity.split(".", 1)[1]
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", bridge], capture_output=True, text=True,
                         check=True).stdout
    return ipaddress.ip_interface(out.split()[3]).network


def agent_log(cluster) -> Path:
    return Path(cluster.kubeconfig).parent / "logs" / "local-node.log"


SHORT_PODS = 300
SHORT_PODS_PARALLELISM = 10  # measured on 2 cores: 5 -> 63 s, 10 -> 31 s, 20 -> 41 s (CPU-bound)


def test_finished_pods_give_their_address_back_so_a_job_outnumbers_the_pod_cidr(cluster, namespace):
    usable = pod_network(cluster).num_addresses - 4  # network, broadcast, the bridge's and the control plane's
    assert SHORT_PODS > usable
    log_start = agent_log(cluster).stat().st_size
    started = time.monotonic()
    apply(cluster, namespace, f"""
apiVersion: batch/v1
kind: Job
metadata: {{name: many}}
spec:
  completions: {SHORT_PODS}
  parallelism: {SHORT_PODS_PARALLELISM}
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers: [{{name: main, image: python:3.11, command: ["true"]}}]
""")

    def agent_log_since_start() -> str:
        return agent_log(cluster).read_bytes()[log_start:].decode(errors="replace")

    def job_finished() -> bool:
        assert "exhausted" not in agent_log_since_start(), "the node ran out of pod addresses"
        # Ten pods a second on 2 cores can keep the API server from answering one read in time
        # (kubectl: TLS handshake timeout); that is not what this test is about: ask again.
        found = cluster.kubectl("get", "job", "many", "-o", "json", namespace=namespace, check=False)
        conditions = json.loads(found.stdout).get("status", {}).get("conditions", []) if found.returncode == 0 else []
        return any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in conditions)

    wait_for(job_finished, 240, f"{SHORT_PODS} pods to finish", interval=1)
    elapsed = time.monotonic() - started
    finished = pods(cluster, namespace, "job-name=many")
    phases = [p["status"].get("phase") for p in finished]
    assert phases == ["Succeeded"] * SHORT_PODS, {phase: phases.count(phase) for phase in set(phases)}
    addresses = {p["status"]["podIP"] for p in finished}
    assert len(addresses) <= usable < SHORT_PODS  # addresses were given back and used again
    assert "exhausted" not in agent_log_since_start()
    print(f"{SHORT_PODS} pods on {len(addresses)} addresses in {elapsed:.1f}s")


def node_condition(cluster, node: str, kind: str) -> dict:
    conditions = get_json(cluster, None, "node", node).get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == kind), {})


def test_an_agent_that_may_not_watch_pods_marks_its_node_not_ready_and_exits(cluster, namespace, tmp_path):
    suffix = uuid.uuid4().hex[:6]
    node, role = f"deaf-node-{suffix}", f"mlops-test-deaf-node-{suffix}"
    bridge, pod_cidr, lock_fd = localcluster.claim_pod_network()
    # May register and renew its Node and Lease, may not list or watch pods.
    apply(cluster, namespace, f"""
apiVersion: v1
kind: ServiceAccount
metadata: {{name: node-agent}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {role}}}
rules:
- {{apiGroups: [""], resources: [nodes], verbs: [create]}}
- {{apiGroups: [""], resources: [nodes, nodes/status], resourceNames: [{node}], verbs: [get, patch, update]}}
- {{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [create]}}
- {{apiGroups: [coordination.k8s.io], resources: [leases], resourceNames: [{node}], verbs: [get, patch, update]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {role}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects: [{{kind: ServiceAccount, name: node-agent, namespace: {namespace}}}]
""")
    # Cordoned beforehand (the agent keeps a Node's spec), so no pod of another test lands on it.
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": node}, "spec": {"unschedulable": True}}))
    token = cluster.kubectl("create", "token", "node-agent", "--duration=10m", namespace=namespace).stdout.strip()
    admin = json.loads(Path(cluster.kubeconfig).read_text())
    kubeconfig = tmp_path / "node-agent.kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "agent",
        "clusters": [{"name": "local", "cluster": admin["clusters"][0]["cluster"]}],
        "users": [{"name": "node-agent", "user": {"token": token}}],
        "contexts": [{"name": "agent", "context": {"cluster": "local", "user": "node-agent"}}],
    }))
    log_path = tmp_path / "agent.log"
    with open(log_path, "wb") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "localnode", f"--kubeconfig={kubeconfig}", f"--node-name={node}",
             f"--pod-cidr={pod_cidr}", f"--bridge={bridge}", f"--bridge-lock-fd={lock_fd}",
             f"--state-dir={tmp_path / 'node'}"],
            cwd=localcluster.HACK, stdout=log, stderr=subprocess.STDOUT, pass_fds=(lock_fd,))
    os.close(lock_fd)  # the agent holds the bridge name now
    try:
        returncode = agent.wait(timeout=60)
        output = log_path.read_text(errors="replace")
        assert returncode != 0, output
        assert "pod watch failed" in output and "forbidden" in output, output
        ready = node_condition(cluster, node, "Ready")
        assert ready["status"] == "False" and ready["reason"] == "PodWatchFailed", ready
        assert "forbidden" in ready["message"] and "pods" in ready["message"], ready
        assert bridge not in network_names("link", "show") or another_node_uses(bridge)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        cluster.kubectl("delete", "node", node, "--ignore-not-found")
        cluster.kubectl("delete", "lease", node, "-n", "kube-node-lease", "--ignore-not-found")
        cluster.kubectl("delete", "clusterrolebinding,clusterrole", role, "--ignore-not-found")
        if (fd := lock_bridge(bridge)) is not None:  # no live agent holds the name
            if not another_node_uses(bridge):
                subprocess.run(["ip", "link", "del", bridge], capture_output=True)
            os.close(fd)


def network_names(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True).stdout


def another_node_uses(bridge: str) -> bool:
    """A cluster beside this one (free names are chosen lowest first) may take a bridge name
    the moment it is freed; its agent's command line names it."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"localnode" in argv and f"--bridge={bridge}".encode() in argv:
            return True
    return False


RESTRICTED_POD = """
apiVersion: v1
kind: Pod
metadata: {name: restricted}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: main
    image: python:3.11
    command: [python, -c, 'print("within the rules")']
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


def test_pod_security_admission_enforces_the_restricted_profile(cluster, namespace):
    cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    refused = cluster.kubectl("run", "unrestricted", "--image=python:3.11", "--restart=Never", "--command", "--",
                              "python", "-c", "pass", namespace=namespace, check=False)
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted' in refused.stderr, refused.stderr
    assert cluster.kubectl("get", "pod", "unrestricted", namespace=namespace, check=False).returncode != 0

    apply(cluster, namespace, RESTRICTED_POD)
    done = pod_in_phase(cluster, namespace, "restricted", "Succeeded", "Failed", timeout=60)
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert cluster.kubectl("logs", "restricted", namespace=namespace).stdout == "within the rules\n"
