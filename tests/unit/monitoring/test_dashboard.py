"""charts/mlops-operator/files/dashboard.json loads as a Grafana dashboard: the structure Grafana
needs, a layout without overlaps, queries promtool parses, and only catalogued metrics and labels."""

import itertools
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from monitoring.catalogue import DOMAIN, SERVER, problems, series

REPO = Path(__file__).resolve().parents[3]
DASHBOARD = json.loads((REPO / "charts" / "mlops-operator" / "files" / "dashboard.json").read_text())
PANELS = DASHBOARD["panels"]
QUERIES = [(panel, target) for panel in PANELS if panel["type"] != "row" for target in panel["targets"]]
VARIABLES = {variable["name"]: variable for variable in DASHBOARD["templating"]["list"]}
# What Grafana puts in for each variable, for promtool: a plain value of each.
SUBSTITUTES = {"$__rate_interval": "5m", "$namespace": ".*", "$job": "mlops-operator-metrics"}
pytestmark = pytest.mark.timeout(1800)  # the first promtool use builds it


def test_the_dashboard_has_what_grafana_needs():
    assert {"title", "uid", "schemaVersion", "panels", "templating", "time", "annotations"} <= DASHBOARD.keys()
    assert DASHBOARD["schemaVersion"] >= 39  # Grafana 11 and later; newer ones migrate it on load
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", DASHBOARD["uid"])


def test_queries_go_to_the_chosen_prometheus():
    assert VARIABLES["datasource"]["type"] == "datasource" and VARIABLES["datasource"]["query"] == "prometheus"
    expected = {"type": "prometheus", "uid": "${datasource}"}
    for variable in VARIABLES.values():
        assert variable["type"] == "datasource" or variable["datasource"] == expected
    for panel, target in QUERIES:
        assert panel["datasource"] == target["datasource"] == expected, panel["title"]


def test_panels_have_unique_ids_and_their_parts():
    ids = [panel["id"] for panel in PANELS]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    for panel in PANELS:
        assert panel["type"] and panel["title"], panel
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"] and panel["description"], panel["title"]
            refs = [target["refId"] for target in panel["targets"]]
            assert len(refs) == len(set(refs)) and all(target["expr"] for target in panel["targets"])


def test_panels_fit_the_grid_without_overlapping():
    boxes = [(panel["title"], panel["gridPos"]) for panel in PANELS]
    for title, box in boxes:
        assert box["x"] >= 0 and box["y"] >= 0 and box["w"] > 0 and box["h"] > 0 and box["x"] + box["w"] <= 24, title
    for (a, p), (b, q) in itertools.combinations(boxes, 2):
        apart = (p["x"] + p["w"] <= q["x"] or q["x"] + q["w"] <= p["x"]
                 or p["y"] + p["h"] <= q["y"] or q["y"] + q["h"] <= p["y"])
        assert apart, f"{a} and {b} overlap"


def test_every_variable_a_query_uses_is_defined():
    for panel, target in QUERIES:
        for name in re.findall(r"\$(\w+)", target["expr"]):
            assert name in VARIABLES or name.startswith("__"), (panel["title"], name)
            assert f"${name}" in SUBSTITUTES


def test_promtool_parses_every_query(promtool, tmp_path):
    rules = []
    for panel, target in QUERIES:
        expr = target["expr"]
        for variable, value in SUBSTITUTES.items():
            expr = expr.replace(variable, value)
        rules.append({"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": expr})
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run([str(promtool), "check", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_queries_use_only_catalogued_metrics_and_labels():
    for panel, target in QUERIES:
        assert not problems(target["expr"]), panel["title"]
    for variable in VARIABLES.values():
        if variable["type"] == "query":
            selector, label = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"]["query"]).groups()
            assert not problems(selector) and label in series(re.match(r"\w+", selector).group())[1]


def test_every_pipeline_and_server_metric_has_a_panel():
    shown = " ".join(target["expr"] for _, target in QUERIES)
    assert [name for name in {**DOMAIN, **SERVER} if not re.search(rf"\b{name}(_bucket)?\b", shown)] == []
