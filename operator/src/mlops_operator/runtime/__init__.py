"""The in-pod side (pip install mlops-operator[runtime]): report(), the dataset validator,
data loading with fsspec, and example trainers."""

from .report import ResultTooLarge, report

__all__ = ["report", "ResultTooLarge"]
