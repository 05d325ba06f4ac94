"""Deterministic names and label values of the operator's children: the same inputs always give
the same name, so a retried create after a restart is a 409, never a duplicate; and any name the
API accepts for a parent (a DNS subdomain of up to 253 characters, dots included) gives valid ones."""

import hashlib
import re

MAX_NAME = 63  # a Job's name becomes its pods' job-name label and hostname: a DNS label
MAX_LABEL_VALUE = 63
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TAG_LENGTH = 8


def _tag(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:_TAG_LENGTH]


def child_name(parent: str, suffix: str) -> str:
    """parent-suffix when that is a DNS label of at most 63 characters; otherwise the parent's
    start with dots as '-', a hash of the whole parent name, and the suffix."""
    name = f"{parent}-{suffix}"
    if len(name) <= MAX_NAME and _DNS_LABEL.match(name):
        return name
    keep = MAX_NAME - len(suffix) - _TAG_LENGTH - 2
    start = re.sub(r"[^a-z0-9-]", "-", parent[:keep]).strip("-")
    return "-".join(part for part in (start, _tag(parent), suffix) if part)


def label_value(name: str) -> str:
    """A parent's name as a label value (at most 63 characters): the name itself when it fits,
    else its start and a hash of it. Selection goes by owner UID; this label is for people."""
    if len(name) <= MAX_LABEL_VALUE:
        return name
    start = name[: MAX_LABEL_VALUE - _TAG_LENGTH - 1].rstrip("-.")
    return f"{start}-{_tag(name)}"


def trial_name(experiment: str, run: int, index: int) -> str:
    return child_name(experiment, f"r{run}-t{index}")


def validation_name(dataset: str, generation: int, round_: int) -> str:
    return child_name(dataset, f"validate-g{generation}-{round_}")


def evaluation_name(model: str, identity: str) -> str:
    return child_name(model, f"eval-{identity[:10]}")


def rescore_name(model: str, identity: str) -> str:
    return child_name(model, f"rescore-{identity[:10]}")


def registered_model_name(experiment: str, run: int) -> str:
    return child_name(experiment, f"v{run}")


MAX_SERVER_NAME = 46  # a Deployment's pods are named NAME-<10 hash>-<5>: 63 characters at most


def server_name(deployment: str, model: str) -> str:
    """The apps/v1 Deployment running model's servers for a Deployment of ours: one per model, so
    a canary keeps its name when it becomes the stable version."""
    name = f"{deployment}-{model}"
    if len(name) <= MAX_SERVER_NAME and _DNS_LABEL.match(name):
        return name
    start = re.sub(r"[^a-z0-9-]", "-", deployment[:MAX_SERVER_NAME - 2 * _TAG_LENGTH - 2]).strip("-")
    return f"{start}-{_tag(deployment)}-{_tag(model)}".lstrip("-")


def service_name(deployment: str) -> str:
    """The Service: the Deployment's own name when it is a DNS label (Service names are)."""
    if len(deployment) <= MAX_NAME and _DNS_LABEL.match(deployment):
        return deployment
    return child_name(deployment, "svc")
