"""images/*/Dockerfile, which cannot be built here (no Docker engine; CI runs their install step,
hack/check-images.sh): pinned bases, the one install script, a non-root final stage holding only the
venv, and the commands the chart and the local node expect."""

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from localnode.images import RUNTIME_IMAGE_REPOSITORY, runtime_for

from mlops_operator.api.deployment import RUNTIME_IMAGE
from mlops_operator.resources.pods import RESTRICTED_POD_SECURITY

REPO = Path(__file__).resolve().parents[2]
IMAGES = ("operator", "runtime")
INSTALL = "hack/install-python.sh"
DEPLOYMENT = (REPO / "charts/mlops-operator/templates/deployment.yaml").read_text()
VALUES = yaml.safe_load((REPO / "charts/mlops-operator/values.yaml").read_text())
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def instructions(image: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    lines = [line for line in (REPO / "images" / image / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [(word.upper(), rest.strip()) for word, _, rest in (line.partition(" ") for line in text.splitlines())]


def stages(image: str) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(image):
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def only(stage: list[tuple[str, str]], name: str) -> str:
    (value,) = [rest for word, rest in stage if word == name]
    return value


def test_every_base_is_pinned_by_digest_and_both_images_share_it():
    bases = {only(stage, "FROM").split()[0] for image in IMAGES for stage in stages(image)}
    (base,) = bases
    assert re.fullmatch(r"python:3\.\d+-slim@sha256:[0-9a-f]{64}", base)


@pytest.mark.parametrize("image, extras", [("operator", ""), ("runtime", "runtime")])
def test_the_builder_runs_the_install_script_of_the_dev_venv_and_of_ci(image, extras):
    builder, _ = stages(image)
    assert only(builder, "COPY") == ". ."  # the build context, as .dockerignore lets it through
    assert only(builder, "RUN") == f"{INSTALL} /opt/venv {extras}".strip()
    assert f'"$repo/{INSTALL}" --editable "$venv" test' in (REPO / "hack/python-env.sh").read_text()
    assert f"^RUN {INSTALL} /opt/venv" in (REPO / "hack/check-images.sh").read_text()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert all(extra in pyproject["optional-dependencies"] for extra in extras.split(",") if extra)


@pytest.mark.parametrize("image, pod_user", [
    # The chart's pod and the pods the operator makes run as this user.
    ("operator", int(re.search(r"runAsUser: (\d+)", DEPLOYMENT).group(1))),
    ("runtime", RESTRICTED_POD_SECURITY["runAsUser"]),
])
def test_the_final_stage_holds_only_the_venv_and_runs_as_the_pods_user(image, pod_user):
    final = stages(image)[-1]
    assert only(final, "COPY") == "--from=builder /opt/venv /opt/venv"
    assert "RUN" not in [word for word, _ in final]
    assert only(final, "USER") == f"{pod_user}:{pod_user}"
    assert pod_user != 0
    env = only(final, "ENV")
    assert "PATH=/opt/venv/bin:$PATH" in env.split()
    assert "PYTHONDONTWRITEBYTECODE=1" in env.split()  # the chart's root filesystem is read-only


def test_the_operator_image_runs_the_charts_command():
    final = stages("operator")[-1]
    chart_command = json.loads(re.search(r"^\s*command: (\[.*\])$", DEPLOYMENT, re.M).group(1))
    assert json.loads(only(final, "ENTRYPOINT")) == chart_command
    assert json.loads(only(final, "CMD")) == []


def test_the_runtime_image_runs_the_local_nodes_default_command():
    # Kubernetes' command is the ENTRYPOINT; the local node appends args to its default command.
    final = stages("runtime")[-1]
    runtime = runtime_for(f"{RUNTIME_IMAGE_REPOSITORY}:{VERSION}", "/opt/venv/bin/python3")
    assert json.loads(only(final, "ENTRYPOINT")) == list(runtime.default_command)
    assert json.loads(only(final, "CMD")) == []


@pytest.mark.parametrize("image, repository", [
    ("operator", VALUES["image"]["repository"]),
    ("runtime", RUNTIME_IMAGE_REPOSITORY),
])
def test_the_build_command_in_the_header_names_the_charts_and_the_operators_image(image, repository):
    text = (REPO / "images" / image / "Dockerfile").read_text()
    assert f"docker build -f images/{image}/Dockerfile -t {repository}:{VERSION} ." in text
    assert RUNTIME_IMAGE.startswith(RUNTIME_IMAGE_REPOSITORY + ":")


def test_the_build_context_is_an_allow_list():
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    included = {line[1:] for line in lines if line.startswith("!")}
    assert included == {"pyproject.toml", "README.md", "operator/src", INSTALL}
    assert {"**/__pycache__", "**/*.egg-info"} <= set(lines)
