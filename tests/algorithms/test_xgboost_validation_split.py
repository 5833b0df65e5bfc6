"""Which jobs evaluate 1/N of a replicated validation channel per host, and how rows are shared out."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from trainplane.algorithms.formats import Dataset, row_share
from trainplane.algorithms.xgboost.validation_split import splittable


def test_ratio_metrics_split_and_the_objectives_default_metric_counts() -> None:
    assert splittable("reg:squarederror", [], [])  # rmse
    assert splittable("binary:logistic", ["logloss", "error@0.7"], [])
    assert splittable("reg:tweedie", ["tweedie-nloglik@1.5"], [])
    assert splittable("multi:softprob", ["mlogloss", "merror"], [])


def test_averaged_metrics_grouped_objectives_and_custom_metrics_do_not_split() -> None:
    assert not splittable("binary:logistic", ["logloss", "auc"], [])  # per-host AUCs are averaged
    assert not splittable("binary:logistic", ["aucpr"], [])
    assert not splittable("rank:pairwise", [], [])  # groups span rows
    assert not splittable("rank:ndcg", ["rmse"], [])
    assert not splittable("survival:cox", [], [])
    assert not splittable("reg:squarederror", ["rmse"], ["r2"])  # scikit-learn on local predictions


def test_shares_are_contiguous_nearly_equal_and_cover_every_row_once() -> None:
    features = np.arange(22, dtype=np.float32).reshape(11, 2)
    dataset = Dataset(features, np.arange(11.0), np.linspace(1, 2, 11))
    shares = [dataset.rows(*row_share(11, rank, 3)) for rank in range(3)]
    assert [s.num_rows for s in shares] == [3, 4, 4]
    assert np.array_equal(np.concatenate([s.features for s in shares]), features)
    assert np.array_equal(np.concatenate([s.labels for s in shares]), dataset.labels)  # type: ignore[misc]
    assert np.array_equal(np.concatenate([s.weights for s in shares]), dataset.weights)  # type: ignore[misc]


def test_sparse_rows_split_and_missing_labels_stay_missing() -> None:
    features = sp.random(10, 5, density=0.4, format="csr", random_state=0)
    shares = [Dataset(features, None).rows(*row_share(10, rank, 2)) for rank in range(2)]
    assert all(s.labels is None and s.weights is None for s in shares)
    assert (sp.vstack([s.features for s in shares]) != features).nnz == 0
