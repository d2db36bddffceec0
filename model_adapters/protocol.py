"""The adapter protocol every model plugs in through (ARCHITECTURE.md, "Adapter protocol")."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from grit_eval.types import Prediction, Request


@runtime_checkable
class ModelAdapter(Protocol):
    """A model behind the common task interface.

    ``predict`` returns exactly one prediction per request, in the same order. The adapter
    owns prompting, batching, padding to fixed shapes and compilation. A request it cannot
    answer yields a prediction with an empty output, confidence 0 and ``error`` set; it never
    raises for one bad sample.
    """

    name: str
    supported_tasks: frozenset[str]

    def predict(self, requests: Sequence[Request]) -> list[Prediction]: ...

    def num_parameters(self) -> int | None:
        """Parameter count for the submission's ``params.json`` (None when unknown)."""
        ...
