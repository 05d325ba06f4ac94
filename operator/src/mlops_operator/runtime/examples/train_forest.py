"""A random forest on the breast-cancer data: `python -m mlops_operator.runtime.examples.train_forest`."""

import argparse

from sklearn.ensemble import RandomForestClassifier

from .common import train_and_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-estimators", type=float, default=100)
    parser.add_argument("--max-depth", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    depth = int(args.max_depth) if args.max_depth else None
    train_and_report(RandomForestClassifier(n_estimators=int(args.n_estimators), max_depth=depth,
                                            random_state=args.seed, n_jobs=1))


if __name__ == "__main__":
    main()
