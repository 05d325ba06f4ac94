"""`python3 -m mlops_operator.runtime`, the runtime image's default command: it lists the programs
the image holds, among them every one the operator runs in that image."""

import importlib.util

import pytest

from mlops_operator.resources.jobs import EVALUATOR_COMMAND, VALIDATOR_COMMAND
from mlops_operator.resources.serving import SERVER_COMMAND
from mlops_operator.runtime.__main__ import PROGRAMS, main


@pytest.mark.parametrize("command", [VALIDATOR_COMMAND, EVALUATOR_COMMAND, SERVER_COMMAND])
def test_every_program_the_operator_runs_is_listed(command):
    assert command[:2] == ["python3", "-m"]
    assert command[2] in PROGRAMS


@pytest.mark.parametrize("module", sorted(PROGRAMS))
def test_every_listed_program_exists(module):
    assert importlib.util.find_spec(module) is not None


def test_it_prints_the_programs_and_runs_nothing(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(f"python3 -m {module}" in out for module in PROGRAMS)


def test_help_and_unknown_arguments():
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    with pytest.raises(SystemExit) as done:
        main(["validate"])
    assert done.value.code == 2
