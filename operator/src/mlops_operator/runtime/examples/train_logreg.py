"""A logistic regression on the breast-cancer data: `python -m mlops_operator.runtime.examples.train_logreg`."""

import argparse

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .common import train_and_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--max-iter", type=float, default=200)
    args = parser.parse_args()
    train_and_report(make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=int(args.max_iter))))


if __name__ == "__main__":
    main()
