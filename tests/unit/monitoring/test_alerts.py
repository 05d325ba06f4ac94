"""The alert rules (charts/mlops-operator/files/alerts.yaml) under the pinned promtool: the file is
the generator's, the rules load, and every alert has a promtool case where it fires with its labels
and annotations and one where it does not; every expression uses catalogued metrics and labels."""

import subprocess
from pathlib import Path

import alerts  # hack/alerts.py
import pytest
import yaml
from monitoring.catalogue import problems

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "charts" / "mlops-operator" / "files" / "alerts.yaml"
CASES = Path(__file__).with_name("alerts_test.yaml")
# The first use builds promtool from its Go module (minutes, once; cached afterwards).
pytestmark = pytest.mark.timeout(1800)


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def _promtool(promtool: Path, *args: str) -> None:
    result = subprocess.run([str(promtool), *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rule_file_is_the_generators():
    assert RULES.read_text() == alerts.rendered(), "run python hack/alerts.py"


def test_promtool_checks_the_rules(promtool):
    _promtool(promtool, "check", "rules", "--lint=all", "--lint-fatal", str(RULES))


def test_promtool_cases_pass(promtool):
    _promtool(promtool, "test", "rules", str(CASES))


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_does_not():
    cases = [case for test in yaml.safe_load(CASES.read_text())["tests"] for case in test["alert_rule_test"]]
    for rule in _rules():
        own = [case["exp_alerts"] for case in cases if case["alertname"] == rule["alert"]]
        assert any(own) and not all(own), f"{rule['alert']}: {len(own)} cases, none firing or none quiet"


@pytest.mark.parametrize("rule", _rules(), ids=lambda rule: rule["alert"])
def test_each_alert_says_how_bad_and_what_happened(rule):
    assert rule["labels"]["severity"] in ("critical", "warning", "info")
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    assert not problems(rule["expr"])
    docs = (REPO / "docs" / "operations.md").read_text()
    assert f"`{rule['alert']}`" in docs, "docs/operations.md says what to do when it fires"
