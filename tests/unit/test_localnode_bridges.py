"""Bridge names are held by a lock per name for the life of the agent that uses them."""

import os
import subprocess
import sys

import pytest

from localnode import bridges


@pytest.fixture(autouse=True)
def lock_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(bridges, "LOCK_DIR", tmp_path / "locks")


def test_a_held_name_cannot_be_taken_again():
    fd = bridges.lock_bridge("mlbr7")
    assert fd is not None
    assert bridges.lock_bridge("mlbr7") is None
    assert bridges.lock_bridge("mlbr8") is not None
    os.close(fd)
    assert bridges.lock_bridge("mlbr7") is not None


def test_the_lock_passes_to_a_child_and_ends_with_it():
    fd = bridges.lock_bridge("mlbr7")
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE,
                             pass_fds=(fd,))
    os.close(fd)  # as the launcher does once the agent runs
    try:
        assert bridges.lock_bridge("mlbr7") is None  # the child holds it
    finally:
        child.communicate(b"")
    assert bridges.lock_bridge("mlbr7") is not None


def test_holds_lock_recognises_only_the_held_lock_of_that_name():
    fd = bridges.lock_bridge("mlbr7")
    other = bridges.lock_bridge("mlbr8")
    assert bridges.holds_lock(fd, "mlbr7")
    assert not bridges.holds_lock(other, "mlbr7")
    unlocked = os.open(bridges.LOCK_DIR / "mlbr7.lock", os.O_RDONLY)
    assert not bridges.holds_lock(unlocked, "mlbr7")
    assert not bridges.holds_lock(12345, "mlbr7")
