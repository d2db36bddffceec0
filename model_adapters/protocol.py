"""The adapter protocol every model plugs in through (ARCHITECTURE.md, "Adapter protocol").

Requests are typed by kind (``grit_eval.types.REQUEST_KINDS``: generate_text, choose_option,
localize_boxes, locate_keypoints, segment_masks, dense_map; the task table maps every task to
one). The harness groups a run's requests by task, batches them in split order and calls the
adapter method named after the task's kind with one batch. An adapter defines only the kind
methods it supports; a task whose kind method is missing is reported before predicting starts
and skipped.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ModelAdapter(Protocol):
    """A model behind the common task interface.

    Each kind method (e.g. ``generate_text(self, requests)``) returns exactly one prediction
    per request, in the same order; all requests of one call share a task. The adapter owns
    prompting, padding to fixed shapes and compilation. A request it cannot answer yields a
    prediction with an empty output, confidence 0 and ``error`` set; it never raises for one
    bad sample.

    Optional: ``supported_tasks`` (a frozenset) narrows the tasks of its kinds it answers.
    """

    name: str

    @classmethod
    def from_settings(cls, settings: Any, split: Any) -> "ModelAdapter": ...

    def num_parameters(self) -> int | None:
        """Parameter count for the submission's ``params.json`` (None when unknown)."""
        ...


def kind_method(adapter: Any, task: str, kind: str) -> Any:
    """The adapter's method answering ``kind`` requests of ``task``, or None."""
    supported = getattr(adapter, "supported_tasks", None)
    if supported is not None and task not in supported:
        return None
    method = getattr(adapter, kind, None)
    return method if callable(method) else None


def answer_all_kinds(cls: type) -> type:
    """Class decorator for adapters whose ``predict(requests)`` answers every kind itself
    (dispatching on ``request.task``): each kind method is ``predict``."""
    from grit_eval.types import REQUEST_KINDS

    for kind in REQUEST_KINDS:
        setattr(cls, kind, cls.predict)
    return cls

