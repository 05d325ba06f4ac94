"""`python3 -m mlops_operator.runtime`: the runtime image's default command. It runs nothing; it lists
the programs the image holds. The operator always names one of them as its containers' command."""

import argparse
import sys

PROGRAMS = {
    "mlops_operator.runtime.validate": "the built-in dataset validator (a Dataset's validation Job)",
    "mlops_operator.runtime.evaluate": "the built-in model evaluator (a Model version's evaluation Job)",
    "mlops_operator.runtime.serve": "the built-in model server, Open Inference Protocol v2 (a Deployment's pods)",
    "mlops_operator.runtime.examples.train_forest": "an example trainer: a random forest",
    "mlops_operator.runtime.examples.train_logreg": "an example trainer: a logistic regression",
    "mlops_operator.runtime.examples.write_data": "writes the bundled breast-cancer data set as CSV",
}


def usage() -> str:
    lines = [f"  python3 -m {module:<46} {what}" for module, what in PROGRAMS.items()]
    return "\n".join(["programs in this image (set one as the container's command):", *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m mlops_operator.runtime", description=__doc__,
                                     epilog=usage(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(usage())
    return 0


if __name__ == "__main__":
    sys.exit(main())
