"""Deterministic names of the operator's children: the same inputs always give the same name, so
a retried create after a restart is a 409, never a duplicate."""

import hashlib

MAX_NAME = 63  # a Job's name is copied into its pods' job-name label, which holds 63 characters


def child_name(parent: str, suffix: str) -> str:
    """parent-suffix, shortened with a hash of the parent when it would exceed 63 characters."""
    name = f"{parent}-{suffix}"
    if len(name) <= MAX_NAME:
        return name
    tag = hashlib.sha256(parent.encode()).hexdigest()[:8]
    keep = MAX_NAME - len(suffix) - len(tag) - 2
    return f"{parent[:keep].rstrip('-')}-{tag}-{suffix}"


def trial_name(experiment: str, run: int, index: int) -> str:
    return child_name(experiment, f"r{run}-t{index}")


def validation_name(dataset: str, generation: int, round_: int) -> str:
    return child_name(dataset, f"validate-g{generation}-{round_}")
