"""Writes the bundled breast-cancer data set as CSV: `python -m mlops_operator.runtime.examples.write_data PATH`."""

import sys
from pathlib import Path

from .common import breast_cancer_frame


def main() -> None:
    path = Path(sys.argv[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    breast_cancer_frame().to_csv(path, index=False)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
