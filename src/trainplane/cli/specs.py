"""Reading a spec: a CreateTrainingJob (or CreateHyperParameterTuningJob) request in JSON or YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from trainplane.errors import TrainplaneError


class SpecError(TrainplaneError):
    pass


def load_spec(path: Path, operation: str = "CreateTrainingJob") -> dict[str, Any]:
    """The request in ``path`` (JSON by its suffix, else YAML); SpecError says in one line what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    is_json = path.suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path} is not valid JSON: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path} is not valid YAML: {_yaml_problem(exc)}") from exc
    if not isinstance(data, dict):
        what = "nothing" if data is None else f"a {type(data).__name__}"
        raise SpecError(f"{path} must hold a {operation} request (a mapping), not {what}")
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else problem
