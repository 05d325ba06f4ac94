"""The operator, started by the test (so a test can kill and restart it), in the test's namespace."""

import pytest

from support import OperatorRunner


@pytest.fixture
def operator(crds, namespace, tmp_path):
    with OperatorRunner(crds, namespace, tmp_path) as runner:
        yield runner
