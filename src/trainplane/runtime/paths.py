"""The /opt/ml layout under a job root, and the mapping of absolute /opt/ml paths onto it.

The runtime never hard-codes /opt/ml: each attempt of each host gets its own root laid out exactly like
it, and the SM_* variables point into that root. ``TRAINPLANE_ML_ROOT`` names the root for processes
(built-in algorithms, helpers) that need to turn an /opt/ml path from a config file into a real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

OPT_ML = "/opt/ml"
ROOT_ENV = "TRAINPLANE_ML_ROOT"


def under_opt_ml(path: str) -> bool:
    """Whether a path as a job sees it is /opt/ml or below it."""
    return path == OPT_ML or path.startswith(OPT_ML + "/")


LOCAL_PATHS = "local-paths"  # private copies of absolute paths outside /opt/ml (MLPaths.resolve)


@dataclass(frozen=True)
class MLPaths:
    root: Path

    @property
    def input(self) -> Path:
        return self.root / "input"

    @property
    def config(self) -> Path:
        return self.root / "input" / "config"

    @property
    def data(self) -> Path:
        return self.root / "input" / "data"

    def channel(self, name: str) -> Path:
        return self.data / name

    @property
    def code(self) -> Path:
        return self.root / "code"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    @property
    def output_intermediate(self) -> Path:
        return self.root / "output" / "intermediate"

    @property
    def failure_file(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def success_file(self) -> Path:
        return self.root / "output" / "success"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config / "hyperparameters.json"

    @property
    def inputdataconfig_file(self) -> Path:
        return self.config / "inputdataconfig.json"

    @property
    def resourceconfig_file(self) -> Path:
        return self.config / "resourceconfig.json"

    @property
    def checkpointconfig_file(self) -> Path:
        return self.config / "checkpointconfig.json"

    def create(self) -> MLPaths:
        """Make every directory of the layout (idempotent)."""
        for directory in (
            self.config,
            self.data,
            self.code,
            self.model,
            self.checkpoints,
            self.output_data,
            self.output_intermediate,
            self.root / "errors",
        ):
            directory.mkdir(parents=True, exist_ok=True)
        return self

    def resolve(self, path: str) -> Path:
        """Map a path as a job sees it onto this root: ``/opt/ml/...`` to its place in the root, and
        any other absolute path (a CheckpointConfig.LocalPath such as ``/tmp/ckpt``) to a private copy
        under ``local-paths/``: in a container it would be the job's own, not a directory that every
        job on this machine shares. The /opt/ml sandbox mounts that copy at the path itself."""
        if under_opt_ml(path):
            return self.root / path[len(OPT_ML) :].lstrip("/")
        if path.startswith("/"):
            return self.root / LOCAL_PATHS / path.lstrip("/")
        return Path(path)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> MLPaths:
        """The root a process runs under: TRAINPLANE_ML_ROOT, else the real /opt/ml."""
        return cls(Path(environ.get(ROOT_ENV, OPT_ML)))
