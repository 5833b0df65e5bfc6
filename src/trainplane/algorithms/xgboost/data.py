"""The train and validation channels, read in their ContentType and turned into DMatrix objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import scipy.sparse as sp
import xgboost as xgb

from trainplane.algorithms.formats import (
    CSV,
    LIBSVM,
    PARQUET,
    RECORDIO_PROTOBUF,
    DataFormatError,
    Dataset,
    list_data_files,
    parse_content_type,
)
from trainplane.algorithms.formats.pipe import is_pipe, read_pipe
from trainplane.algorithms.xgboost.contract import JobContract
from trainplane.algorithms.xgboost.errors import UserError
from trainplane.algorithms.xgboost.validation_split import evaluation_share

TRAIN = "train"
VALIDATION = "validation"


def _reader(fmt: str) -> Any:
    if fmt == CSV:
        from trainplane.algorithms.formats.csv import read_csv_files

        return read_csv_files
    if fmt == LIBSVM:
        from trainplane.algorithms.formats.libsvm import read_libsvm_files

        return read_libsvm_files
    if fmt == PARQUET:
        from trainplane.algorithms.formats.parquet import read_parquet_files

        return read_parquet_files
    if fmt == RECORDIO_PROTOBUF:
        from trainplane.algorithms.formats.recordio_protobuf import read_recordio_protobuf_files

        return read_recordio_protobuf_files
    raise UserError(f"Content type {fmt} is not supported by trainplane's XGBoost yet.")


def read_dataset(directory: Path, config: dict[str, Any], csv_weights: bool) -> Dataset:
    """Read one channel; libsvm is the default format when ContentType is absent (as in the container).

    A Pipe-mode channel is read once, from the FIFO ``<channel>_0`` beside ``directory``.
    """
    try:
        if is_pipe(config):
            extra = {"csv_weights": "1"} if csv_weights else {}
            return read_pipe(
                directory.parent,
                directory.name,
                0,
                config.get("ContentType"),
                default_format=LIBSVM,
                extra_params=extra,
            )
        fmt, params = parse_content_type(config.get("ContentType"), LIBSVM)
        files = list_data_files(directory)
        if not files:
            raise DataFormatError(f"No data files found in channel directory {directory}.")
        if csv_weights:
            params["csv_weights"] = "1"
        dataset: Dataset = _reader(fmt)(files, params)
    except DataFormatError as exc:
        raise UserError(str(exc)) from exc
    return dataset


def _widen(features: Any, width: int) -> Any:
    """Sparse channels only know the features they mention; pad to a common width."""
    if sp.issparse(features) and features.shape[1] < width:
        features = sp.csr_matrix(
            (features.data, features.indices, features.indptr), shape=(features.shape[0], width)
        )
    return features


def load_channels(
    contract: JobContract, csv_weights: bool, nthread: int, split_validation: bool = False
) -> dict[str, xgb.DMatrix]:
    """DMatrix per present channel (``train`` required, ``validation`` optional). With
    ``split_validation`` and several hosts, a FullyReplicated validation channel keeps this host's
    1/N of the rows (see ``validation_split``)."""
    configs = contract.input_data_config
    if TRAIN not in configs and not contract.paths.channel(TRAIN).is_dir():
        raise UserError("Channel 'train' is required.")
    datasets = {
        name: read_dataset(contract.paths.channel(name), configs.get(name, {}), csv_weights)
        for name in (TRAIN, VALIDATION)
        if name in configs or contract.paths.channel(name).is_dir()
    }
    for name, dataset in datasets.items():
        if dataset.labels is None:  # XGBoost would fail inside train: "Invalid shape of labels"
            raise UserError(
                f"Channel '{name}' has no labels: XGBoost trains on labelled records (recordio-protobuf "
                "records need a 'label' tensor)."
            )
    width = max(dataset.num_features for dataset in datasets.values())
    if split_validation and VALIDATION in datasets:
        datasets[VALIDATION] = evaluation_share(
            datasets[VALIDATION], configs.get(VALIDATION, {}), contract.hosts, contract.current_host
        )
    return {
        name: xgb.DMatrix(_widen(d.features, width), label=d.labels, weight=d.weights, nthread=nthread)
        for name, d in datasets.items()
    }
