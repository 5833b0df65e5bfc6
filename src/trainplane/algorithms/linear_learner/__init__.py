"""Built-in Linear Learner: SageMaker's ``linear-learner`` algorithm on PyTorch, without containers.

Run with ``python -m trainplane.algorithms.linear_learner`` under ``TRAINPLANE_ML_ROOT`` (an /opt/ml-shaped
root). ``num_models`` linear models train in one vectorised pass (see ``model``), the best is chosen and
calibrated on validation data (or a training sample) and saved. With InstanceCount > 1 the hosts train
one set of models together over torch.distributed (see ``distributed``); only the first host with data
prints metrics, checkpoints and saves.

Model artifact ``model/model_algo-1`` (format version 1) is a NumPy ``.npz`` archive (no pickles)::

    weights        float32 [feature_dim, outputs]   in normalised feature space (outputs = num_classes
                                                    for multiclass, else 1)
    bias           float32 [outputs]
    feature_shift  float32 [feature_dim]            x_normalised = (x - feature_shift) / feature_scale
    feature_scale  float32 [feature_dim]
    meta           JSON string: format_version, predictor_type, loss, threshold (binary decision
                   threshold on ``score``), label_shift / label_scale (regression predictions are
                   raw * label_scale + label_shift), model_index, num_classes, feature_dim

``load_model(path)`` reads it from ``model.tar.gz``, the ``model/`` directory or the file, and
``.predict(X)`` returns ``{"score", "predicted_label"}`` (regressors: ``{"score"}``), where ``score`` is
a probability for logistic / softmax_loss, the margin for hinge_loss, and the prediction for regression.
"""

from trainplane.algorithms.linear_learner.artifact import LinearLearnerModel, load_model
from trainplane.algorithms.linear_learner.job import main
from trainplane.algorithms.linear_learner.metrics import metric_definitions, metric_direction

__all__ = ["LinearLearnerModel", "load_model", "main", "metric_definitions", "metric_direction"]
