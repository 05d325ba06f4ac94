"""Services route as on a real cluster: a ClusterIP reaches the Service's ready endpoints, and only
those, from the host and from pods; pods reach the API server through the `kubernetes` Service."""

import http.client
import json
import urllib.error
import urllib.request

import pytest

from support import get_json, wait_for

pytestmark = pytest.mark.cluster

# Answers GET / with the pod's name; any other path is a 404 (so a readiness probe on /missing
# keeps a pod unready while it would still answer the Service's requests).
SERVE_POD_NAME = """
import http.server, os
name = os.environ["POD_NAME"].encode()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        found = self.path == "/"
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", str(len(name) if found else 0))
        self.end_headers()
        if found:
            self.wfile.write(name)
    def log_message(self, *args):
        pass
# The pod's own address, never 0.0.0.0.
http.server.ThreadingHTTPServer((os.environ["POD_IP"], 8080), Handler).serve_forever()
"""

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web, variant: {name}}}}}
  template:
    metadata: {{labels: {{app: web, variant: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: http
        image: python:3.12
        command: [python3, -c, {program}]
        env: [{{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}},
              {{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: "{probe_path}", port: http}}, periodSeconds: 1}}
"""

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIP
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
"""

REQUESTS = 40


@pytest.fixture(autouse=True)
def local_cluster_only(cluster):
    if not cluster.local:
        pytest.skip("the host routes to ClusterIPs only on the local cluster (elsewhere the test process is "
                    "outside the cluster network)")


def deploy(cluster, namespace, name: str, replicas: int, probe_path: str = "/") -> None:
    cluster.kubectl("apply", "-f", "-", namespace=namespace, input=WEB.format(
        name=name, replicas=replicas, probe_path=probe_path, program=json.dumps(SERVE_POD_NAME)))


def web_service(cluster, namespace) -> str:
    """Two ready pods and one that never gets ready behind the Service `web`; returns its ClusterIP."""
    deploy(cluster, namespace, "ready", 2)
    deploy(cluster, namespace, "unready", 1, probe_path="/missing")
    cluster.kubectl("apply", "-f", "-", namespace=namespace, input=SERVICE)
    cluster.kubectl("rollout", "status", "deployment/ready", "--timeout=60s", namespace=namespace)
    return get_json(cluster, namespace, "service", "web")["spec"]["clusterIP"]


def pod_names(cluster, namespace, variant: str) -> set[str]:
    pods = get_json(cluster, namespace, "pods", "-l", f"variant={variant}")["items"]
    return {p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")}


def ask(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        return response.read().decode()


def answers(url: str, count: int) -> list[str] | None:
    """The pod names that answer `count` requests; None when one fails (routing not settled)."""
    try:
        return [ask(url) for _ in range(count)]
    except (OSError, urllib.error.URLError, http.client.HTTPException):
        return None


def settled(url: str, expected: set[str]):
    """A wait_for predicate: a round of requests all succeed and reach exactly `expected` (kube-proxy
    applies EndpointSlice changes within its sync period, about a second)."""
    return lambda: (names := answers(url, 10)) is not None and set(names) == expected


def test_a_cluster_ip_spreads_requests_from_the_host_over_the_ready_endpoints_only(cluster, namespace):
    cluster_ip = web_service(cluster, namespace)
    ready, unready = pod_names(cluster, namespace, "ready"), pod_names(cluster, namespace, "unready")
    assert len(ready) == 2 and len(unready) == 1
    url = f"http://{cluster_ip}:80/"
    wait_for(settled(url, ready), 60, f"{url} to reach both ready pods")

    names = [ask(url) for _ in range(REQUESTS)]  # every one must succeed

    assert set(names) == ready, names
    assert min(names.count(name) for name in ready) >= 5, names  # spread, not one pod now and then


PROBE_FROM_A_POD = """
import json, os, ssl, sys, urllib.error, urllib.request
service_url, requests = sys.argv[1], int(sys.argv[2])
names = [urllib.request.urlopen(service_url, timeout=5).read().decode() for _ in range(requests)]
# The API server through the kubernetes Service, as an in-cluster client finds and trusts it.
secrets = "/var/run/secrets/kubernetes.io/serviceaccount"
api = f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
tls = ssl.create_default_context(cafile=f"{secrets}/ca.crt")  # verifies the certificate names the ClusterIP
version = json.load(urllib.request.urlopen(f"{api}/version", context=tls, timeout=5))
token = open(f"{secrets}/token").read()
request = urllib.request.Request(f"{api}/api/v1/namespaces/kube-system/secrets",
                                 headers={"Authorization": f"Bearer {token}"})
try:
    status = urllib.request.urlopen(request, context=tls, timeout=5).status
except urllib.error.HTTPError as error:
    status = error.code  # 403: authenticated as the pod's ServiceAccount, which may not list secrets
report = {"names": names, "api": os.environ["KUBERNETES_SERVICE_HOST"], "version": version["gitVersion"],
          "secrets": status}
open("/dev/termination-log", "w").write(json.dumps(report))
"""

CLIENT_JOB = """
apiVersion: batch/v1
kind: Job
metadata: {{name: client}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: client
        image: python:3.12
        command: [python3, -c, {program}, "{url}", "{requests}"]
"""


def test_a_pod_reaches_a_cluster_ip_and_the_api_server_through_the_kubernetes_service(cluster, namespace):
    cluster_ip = web_service(cluster, namespace)
    ready = pod_names(cluster, namespace, "ready")
    url = f"http://{cluster_ip}:80/"
    wait_for(settled(url, ready), 60, f"{url} to reach both ready pods")
    cluster.kubectl("apply", "-f", "-", namespace=namespace, input=CLIENT_JOB.format(
        program=json.dumps(PROBE_FROM_A_POD), url=url, requests=REQUESTS))

    def finished():
        job = get_json(cluster, namespace, "job", "client")
        return next((c["type"] for c in job.get("status", {}).get("conditions", [])
                     if c["type"] in ("Complete", "Failed") and c["status"] == "True"), None)

    outcome = wait_for(finished, 90, "the client Job to finish")
    [pod] = get_json(cluster, namespace, "pods", "-l", "job-name=client")["items"]
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert outcome == "Complete", cluster.kubectl("logs", pod["metadata"]["name"], namespace=namespace).stdout
    report = json.loads(terminated["message"])
    assert set(report["names"]) == ready, report["names"]
    kubernetes = get_json(cluster, "default", "service", "kubernetes")["spec"]["clusterIP"]
    assert report["api"] == kubernetes
    assert report["version"] == json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
    assert report["secrets"] == 403


def test_after_scaling_down_every_request_reaches_the_remaining_pod(cluster, namespace):
    cluster_ip = web_service(cluster, namespace)
    url = f"http://{cluster_ip}:80/"
    wait_for(settled(url, pod_names(cluster, namespace, "ready")), 60, f"{url} to reach both ready pods")

    cluster.kubectl("scale", "deployment/ready", "--replicas=1", namespace=namespace)
    remaining = wait_for(lambda: len(names := pod_names(cluster, namespace, "ready")) == 1 and names, 30,
                         "one pod left in the Deployment")
    wait_for(settled(url, remaining), 60, f"{url} to reach only {remaining}")

    names = [ask(url) for _ in range(REQUESTS)]

    assert set(names) == remaining, names
