"""operator/ is a plain folder: it must never shadow Python's standard-library `operator`."""

import operator
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_operator_is_the_standard_library_module():
    assert Path(operator.__file__).parent == Path(sysconfig.get_paths()["stdlib"])
    assert operator.itemgetter(1)([0, 7]) == 7


def test_operator_folder_is_not_a_package():
    assert not (REPO / "operator" / "__init__.py").exists()


def test_the_package_under_test_is_this_checkout():
    # A shared virtualenv once pointed a CI clone's tests at another checkout's code.
    import mlops_operator

    assert Path(mlops_operator.__file__).resolve().is_relative_to(REPO)
