"""What a script job's framework image asks for, against what this machine's Python has.

A script-mode job names a framework image (``.../pytorch-training:2.1-cpu-py310``); trainplane runs its
script with this machine's Python and libraries instead, whatever version the tag names. A model saved
by another version may not load in the image's inference container, so the job's log says so.
"""

from __future__ import annotations

import re
from importlib import metadata

from trainplane.algorithms.registry import image_tag

# Image repository (its last path part, before the tag) -> the distribution it is about.
_FRAMEWORKS = {
    "pytorch-training": "torch",
    "pytorch": "torch",
    "sagemaker-scikit-learn": "scikit-learn",
    "sagemaker-xgboost": "xgboost",
    "tensorflow-training": "tensorflow",
    "tensorflow": "tensorflow",
    "mxnet-training": "mxnet",
}
# Other distributions of the same library (``xgboost-cpu`` is xgboost without NCCL).
_ALSO = {"xgboost": ("xgboost-cpu",), "tensorflow": ("tensorflow-cpu",)}
_VERSION = re.compile(r"^(\d+)\.(\d+)")


def requested(image: str) -> tuple[str, str] | None:
    """(distribution, "major.minor") a framework image names; None for other images or no version."""
    repository = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    distribution = _FRAMEWORKS.get(repository)
    match = _VERSION.match(image_tag(image) or "")
    if distribution is None or match is None:
        return None
    return distribution, f"{match.group(1)}.{match.group(2)}"


def installed_version(distribution: str) -> str | None:
    for name in (distribution, *_ALSO.get(distribution, ())):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def mismatch_note(image: str, requirements: str = "") -> str | None:
    """A log line when this machine's Python lacks the image's framework or has another major.minor;
    None also when the job's ``requirements`` (its requirements.txt) name that framework itself."""
    asked = requested(image)
    if asked is None:
        return None
    distribution, version = asked
    if re.search(rf"(?im)^\s*{re.escape(distribution)}\b", requirements):
        return None
    installed = installed_version(distribution)
    if installed is None:
        return (
            f"trainplane: the image asks for {distribution} {version}; this machine's Python, which runs "
            f"script jobs, has no {distribution}"
        )
    match = _VERSION.match(installed)
    if match is not None and f"{match.group(1)}.{match.group(2)}" == version:
        return None
    return (
        f"trainplane: the image asks for {distribution} {version}; this machine's Python, which runs "
        f"script jobs, has {distribution} {installed} (a model saved here may not load in that image)"
    )
