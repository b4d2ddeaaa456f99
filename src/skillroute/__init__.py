"""skillroute: decide which Agent Skill to load for a task — typed, explained, measured.

>>> import skillroute
>>> skillroute.route("add retries to my celery task").skill
'django-celery'

Importing the package is cheap: submodules (and torch, through the encoder) load on
first use.
"""

from __future__ import annotations

import threading
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from skillroute.catalog import Catalog
    from skillroute.dataset import Dataset, LabelledItem, load_dataset
    from skillroute.encoders import Encoder, SentenceTransformerEncoder
    from skillroute.evaluation import EvalReport, evaluate
    from skillroute.result import Candidate, RouteResult
    from skillroute.router import Router
    from skillroute.skill import Skill

__all__ = [
    "Candidate",
    "Catalog",
    "Dataset",
    "Encoder",
    "EvalReport",
    "LabelledItem",
    "RouteResult",
    "Router",
    "SentenceTransformerEncoder",
    "Skill",
    "__version__",
    "evaluate",
    "load_dataset",
    "route",
]

_LAZY = {
    "Candidate": "skillroute.result",
    "Catalog": "skillroute.catalog",
    "Dataset": "skillroute.dataset",
    "Encoder": "skillroute.encoders",
    "EvalReport": "skillroute.evaluation",
    "LabelledItem": "skillroute.dataset",
    "RouteResult": "skillroute.result",
    "Router": "skillroute.router",
    "SentenceTransformerEncoder": "skillroute.encoders",
    "Skill": "skillroute.skill",
    "evaluate": "skillroute.evaluation",
    "load_dataset": "skillroute.dataset",
}

_default: dict[str, Router] = {}
_default_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata costs ~30 ms: only when asked
        try:
            return version("skillroute")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0.0.0+unknown"
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skillroute' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def route(text: str, k: int = 3) -> RouteResult:
    """Route ``text`` with a shared router over the bundled catalog (built on first call)."""
    router = _default.get("router")
    if router is None:
        with _default_lock:
            if "router" not in _default:
                from skillroute.router import Router

                _default["router"] = Router.from_catalog()
            router = _default["router"]
    return router.route(text, k=k)
