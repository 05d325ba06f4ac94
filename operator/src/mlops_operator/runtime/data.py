"""Reading a Dataset's source through fsspec: file://, https://, s3://, gs://, lakefs://."""

import hashlib
import os
from typing import Any

import fsspec
import numpy as np
import pandas as pd

from .. import contract
from ..api.dataset import DataSpec, ResolvedSplits

EXTENSIONS = {"csv": (".csv",), "parquet": (".parquet", ".pq"), "jsonl": (".jsonl", ".json")}


def source_files(uri: str, data_format: str) -> tuple[Any, list[str]]:
    """The filesystem and the data files of a URI (a file, or every file of the format in a folder)."""
    fs, path = fsspec.core.url_to_fs(uri)
    if fs.isdir(path):
        files = sorted(p for p in fs.find(path) if p.endswith(EXTENSIONS[data_format]))
        if not files:
            raise FileNotFoundError(f"no {data_format} files under {uri}")
        return fs, files
    return fs, [path]


def content_digest(fs, files: list[str]) -> str:
    """sha256 of the bytes (a folder: of each file's relative name and bytes, in name order): the
    data set's identity, independent of where it is stored."""
    digest = hashlib.sha256()
    base = os.path.commonpath(files) if len(files) > 1 else None
    for name in files:
        if base is not None:
            digest.update(os.path.relpath(name, base).encode() + b"\0")
        with fs.open(name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


def read_frame(fs, files: list[str], data_format: str) -> pd.DataFrame:
    readers = {
        "csv": pd.read_csv,
        "parquet": pd.read_parquet,
        "jsonl": lambda f: pd.read_json(f, lines=True),
    }
    frames = []
    for name in files:
        with fs.open(name, "rb") as f:
            frames.append(readers[data_format](f))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_source(uri: str, data_format: str) -> tuple[pd.DataFrame, str]:
    """The data at uri and its content digest, from the same files."""
    fs, files = source_files(uri, data_format)
    return read_frame(fs, files, data_format), content_digest(fs, files)


def split_frame(frame: pd.DataFrame, splits: ResolvedSplits) -> dict[str, pd.DataFrame]:
    """Deterministic row split: a seeded shuffle cut into train / test / validation fractions."""
    order = np.random.default_rng(splits.seed).permutation(len(frame))
    rows = len(frame)
    cut_train = int(round(rows * splits.train))
    cut_test = cut_train + int(round(rows * splits.test))
    parts = {"train": order[:cut_train], "test": order[cut_train:cut_test]}
    if splits.validation:
        parts["validation"] = order[cut_test:cut_test + int(round(rows * splits.validation))]
    return {name: frame.iloc[index].reset_index(drop=True) for name, index in parts.items()}


def load_dataset_from_env() -> tuple[dict[str, pd.DataFrame], str | None, str]:
    """For trainers: the splits of the data the run pinned (MLOPS_DATASET_SPEC), its target column
    and its digest (recomputed, so the trainer reports what it really read)."""
    spec = DataSpec.model_validate_json(os.environ[contract.DATASET_SPEC])
    frame, digest = read_source(spec.source.uri, spec.format)
    target = spec.schema_.target if spec.schema_ else None
    return split_frame(frame, spec.splits), target, digest
