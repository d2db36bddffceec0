"""Loading a Unified-IO 2 checkpoint folder: ``config.json`` plus either the released
``pytorch_model.bin`` (torch zip) or safetensors (one file or shards with an index).

Every tensor name and shape is checked against the config before anything heavy happens; the
first mismatch is reported in one line. Audio and history parameters are loaded, checked to sit
under a known module, and listed in ``LoadedCheckpoint.ignored`` (never silently dropped).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model_adapters.unified_io_2.checkpoint_safetensors import FormatError, read_safetensors_folder
from model_adapters.unified_io_2.checkpoint_torch import RefusedGlobal, read_torch_zip
from model_adapters.unified_io_2.config import (IGNORED_PREFIXES, ConfigFileError, UIO2Config,
                                                load_config, param_shapes)

log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """The checkpoint folder cannot be used with its config (one line, names the problem)."""


@dataclass
class LoadedCheckpoint:
    config: UIO2Config
    params: dict[str, np.ndarray]  # torch names and layouts, read-only views where possible
    ignored: list[str] = field(default_factory=list)
    source: str = ""


def read_tensors(folder: Path) -> tuple[dict[str, np.ndarray], str]:
    """The raw name -> array mapping and the file it came from."""
    if (folder / "model.safetensors").is_file() or (folder / "model.safetensors.index.json").is_file():
        return read_safetensors_folder(folder), str(folder / "model.safetensors")
    if (folder / "pytorch_model.bin").is_file():
        return read_torch_zip(folder / "pytorch_model.bin"), str(folder / "pytorch_model.bin")
    raise CheckpointError(f"{folder}: no model.safetensors, model.safetensors.index.json "
                          "or pytorch_model.bin in the checkpoint folder")


def check_tensors(tensors: dict[str, np.ndarray], cfg: UIO2Config, source: str) -> list[str]:
    """Raise on the first name or shape that does not fit ``cfg``; return the ignored names."""
    expected = param_shapes(cfg)
    ignored = []
    for name in sorted(tensors):
        if name in expected:
            if tuple(tensors[name].shape) != expected[name]:
                raise CheckpointError(
                    f"{source}: {name} has shape {list(tensors[name].shape)}, "
                    f"the config implies {list(expected[name])}")
        elif name.startswith(IGNORED_PREFIXES):
            ignored.append(name)
        else:
            raise CheckpointError(f"{source}: unexpected tensor {name} (not in the config's model)")
    for name in expected:
        if name not in tensors:
            raise CheckpointError(f"{source}: tensor {name} is missing (the config needs it)")
    for name, arr in tensors.items():
        if name in expected and not np.issubdtype(arr.dtype, np.floating) and arr.dtype.name != "bfloat16":
            raise CheckpointError(f"{source}: {name} has non-float dtype {arr.dtype}")
    return ignored


def load_checkpoint(folder: str | Path) -> LoadedCheckpoint:
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: checkpoint folder does not exist")
    try:
        cfg = load_config(folder)
        tensors, source = read_tensors(folder)
    except (ConfigFileError, FormatError, RefusedGlobal) as e:
        raise CheckpointError(str(e)) from None
    ignored = check_tensors(tensors, cfg, source)
    if ignored:
        log.info("unified_io_2: %d audio/history tensors loaded and ignored (GRIT uses text and "
                 "image only), e.g. %s", len(ignored), ignored[0])
    params = {k: v for k, v in tensors.items() if k not in set(ignored)}
    return LoadedCheckpoint(cfg, params, ignored, source)
