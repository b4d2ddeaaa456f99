"""Routers whose encoder costs nothing, over the bundled catalog or a synthetic one.

Routing overhead is everything skillroute does around the model: cleaning the text,
scoring, calibration, rules and building the `RouteResult`. To time it alone, the model
is replaced by `InstantEncoder`, which looks vectors up in a table filled beforehand and
keeps the real model's ``model_id`` (so the bundled catalog's fitted calibration applies).

A synthetic catalog of N skills is the 12 bundled skills (re-parsed from their SKILL.md
files, with the bundled ``routing.yaml``, so every rule still runs) plus N - 12 generated
skills with valid names, one-sentence descriptions and, for every fourth skill, 3-5
examples. The bundled texts and the tasks keep the real model's vectors; generated texts
get random unit vectors (cost does not depend on the values, and random directions stay
below the real skills' similarities, so the decisions stay comparable: the run reports
them). Its calibration is the bundled one with a head widened to N rows: the fitted rows
for the 12 real skills and the "no skill" class, small random rows with a low bias for
the rest, so the head's matrix product and softmax are paid at full size.

This module must not import torch: the memory probe builds the 10,000-skill router in a
child process from a saved `ReferenceVectors` file.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from skillroute import Catalog, Router, Skill
from skillroute.bundled import bundled_catalog_path
from skillroute.calibration import (
    CALIBRATION_FILE,
    Calibration,
    HeadParams,
    MemoryParams,
    load_calibration,
)
from skillroute.encoders import Encoder
from skillroute.memory import ExampleMemory
from skillroute.skill import parse_skill_file
from skillroute.spelling import Speller

__all__ = [
    "InstantEncoder",
    "ReferenceVectors",
    "build_catalog",
    "overhead_router",
    "synthetic_skills",
]

_VERBS = (
    "parse", "sync", "audit", "render", "index", "migrate", "validate", "schedule",
    "export", "stream", "cache", "translate", "compress", "monitor", "archive", "notify",
    "score", "merge", "redact", "reconcile",
)  # fmt: skip
_NOUNS = (
    "invoice", "ledger", "sensor", "playlist", "genome", "ticket", "shipment", "payroll",
    "subtitle", "forecast", "satellite", "recipe", "warranty", "lease", "manuscript",
    "telemetry", "voucher", "itinerary", "inventory", "podcast", "mortgage", "vaccine",
    "turbine", "harvest", "lottery", "parcel", "thesis", "tariff", "census", "glacier",
)  # fmt: skip
_DOMAINS = (
    "logistics", "healthcare", "retail", "astronomy", "music", "legal", "agriculture",
    "gaming", "insurance", "education", "energy", "aviation", "banking", "publishing",
)  # fmt: skip
_FORMATS = ("CSV", "PDF", "XML", "JSON", "Parquet", "spreadsheet", "email", "webhook")
_EXAMPLE_EVERY = 4  # every fourth generated skill has examples
_SYNTHETIC_HEAD_BIAS = -12.0  # keeps the head's probability mass on the real skills
Vectors = NDArray[np.float32]


def synthetic_skills(n: int, seed: int) -> list[Skill]:
    """``n`` valid, distinct, random-ish skills (seeded); every fourth has 3-5 examples."""
    rng = random.Random(seed)
    skills = []
    for i in range(n):
        verb, verb2 = rng.choice(_VERBS), rng.choice(_VERBS)
        noun, noun2 = rng.choice(_NOUNS), rng.choice(_NOUNS)
        domain, fmt = rng.choice(_DOMAINS), rng.choice(_FORMATS)
        description = (
            f"{verb.capitalize()} {noun} records for {domain} teams: reads {fmt} files, "
            f"{verb2}s the {noun2} data and reports problems. Use when a task mentions "
            f"{noun} {verb} work or {domain} {noun2} data."
        )
        examples: tuple[str, ...] = ()
        if i % _EXAMPLE_EVERY == 0:
            examples = tuple(
                f"{rng.choice(_VERBS)} the {noun} {rng.choice(_FORMATS)} from {domain} "
                f"vendor {rng.randrange(1000)}"
                for _ in range(rng.randint(3, 5))
            )
        skills.append(
            Skill(name=f"{verb}-{noun}-{i:05d}", description=description, examples=examples)
        )
    return skills


def build_catalog(n_skills: int, seed: int) -> Catalog:
    """The bundled catalog (n_skills <= 12), else it plus generated skills, same rules."""
    bundled = Catalog.from_dir(bundled_catalog_path())
    if n_skills <= len(bundled):
        return bundled
    # re-parse: a loaded catalog's skills already carry routing.yaml's examples, and
    # passing the spec again would add them twice
    raw = [parse_skill_file(skill.skill_file) for skill in bundled if skill.skill_file]
    generated = synthetic_skills(n_skills - len(raw), seed)
    return Catalog.from_skills([*raw, *generated], bundled.routing)


@dataclass(frozen=True)
class ReferenceVectors:
    """The real model's vectors for the bundled skill texts and the benchmark's tasks."""

    model_id: str
    texts: tuple[str, ...]
    vectors: Vectors
    tasks: tuple[str, ...]  # cleaned task texts, as the router passes them to the encoder

    def save(self, path: Path) -> Path:
        """Write as ``.npz`` (no pickle), for a child process to rebuild the same router."""
        np.savez(
            path,
            model_id=np.array(self.model_id),
            texts=np.array(self.texts),
            vectors=self.vectors,
            tasks=np.array(self.tasks),
        )
        return path

    @classmethod
    def load(cls, path: Path) -> ReferenceVectors:
        """Read a file written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                str(data["model_id"]),
                tuple(str(t) for t in data["texts"]),
                np.ascontiguousarray(data["vectors"], dtype=np.float32),
                tuple(str(t) for t in data["tasks"]),
            )


class InstantEncoder(Encoder):
    """An encoder that looks texts up in a table: no model, (almost) no time.

    It keeps the real model's ``model_id`` so calibrations fitted for that model apply.
    A text missing from the table is a benchmark bug, so it raises instead of guessing.
    """

    def __init__(self, model_id: str, texts: Sequence[str], vectors: Vectors) -> None:
        if len(texts) != vectors.shape[0]:
            raise ValueError(f"{len(texts)} texts for {vectors.shape[0]} vectors")
        self.model_id = model_id
        self._rows = {text: row for row, text in enumerate(texts)}
        self._vectors = vectors

    @property
    def nbytes(self) -> int:
        """Size of the vector table (part of any memory figure of this router)."""
        return int(self._vectors.nbytes)

    def embed(self, texts: list[str]) -> Any:
        """The stored vectors of ``texts``, in order."""
        try:
            rows = [self._rows[text] for text in texts]
        except KeyError as exc:
            raise KeyError(f"InstantEncoder has no vector for {exc.args[0]!r:.80}") from None
        return self._vectors[rows]


def _random_unit(n: int, dim: int, seed: int) -> Vectors:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def instant_encoder(reference: ReferenceVectors, texts: Iterable[str], seed: int) -> InstantEncoder:
    """The reference vectors plus random unit vectors for every other text in ``texts``."""
    known = set(reference.texts)
    extra = list(dict.fromkeys(text for text in texts if text not in known))
    dim = reference.vectors.shape[1]
    vectors = np.concatenate([reference.vectors, _random_unit(len(extra), dim, seed)])
    return InstantEncoder(reference.model_id, [*reference.texts, *extra], vectors)


def widened_calibration(catalog: Catalog, fitted: Calibration, seed: int) -> Calibration:
    """The fitted calibration with a head of one row per skill of ``catalog``.

    Built with ``model_construct`` from numpy arrays: validating 10,000 x 384 Python
    floats would cost seconds and measure pydantic, not routing.
    """
    if fitted.head is None:
        return fitted
    source = fitted.head.to_head()
    row_of = {name: row for row, name in enumerate(fitted.head.skills)}
    rng = np.random.default_rng(seed)
    weights = (0.05 * rng.standard_normal((len(catalog), source.weights.shape[1]))).astype(
        np.float32
    )
    bias = np.full(len(catalog), _SYNTHETIC_HEAD_BIAS, dtype=np.float32)
    for row, name in enumerate(catalog.names):
        if name in row_of:
            weights[row] = source.weights[row_of[name]]
            bias[row] = source.bias[row_of[name]]
    if source.out_of_scope:  # keep the fitted "no skill" row last, as the head expects
        weights = np.concatenate([weights, source.weights[-1:]])
        bias = np.concatenate([bias, source.bias[-1:]])
    head = HeadParams.model_construct(
        skills=catalog.names,
        weights=weights,
        bias=bias,
        c=fitted.head.c,
        out_of_scope=source.out_of_scope,
        memory=_widened_memory(catalog, fitted.head, row_of),
    )
    return fitted.model_copy(update={"head": head, "catalog_fingerprint": None})


def _widened_memory(
    catalog: Catalog, fitted: HeadParams, row_of: dict[str, int]
) -> MemoryParams | None:
    """The fitted example memory, its classes renumbered for the widened head.

    Generated skills remember nothing; the vote costs what it costs on the bundled catalog
    (one product with the remembered vectors), so the overhead includes it.
    """
    if fitted.memory is None:
        return None
    memory = fitted.memory.to_memory()
    fitted_labels = np.repeat(np.arange(memory.classes), memory.counts)
    new_row = {row: catalog.names.index(name) for name, row in row_of.items()}
    if fitted.out_of_scope:
        new_row[len(fitted.skills)] = len(catalog)
    labels = np.array([new_row[int(label)] for label in fitted_labels])
    classes = len(catalog) + fitted.out_of_scope
    widened = ExampleMemory.remember(memory.vectors, labels, classes, memory.temperature)
    vectors, scales = widened.encoded()
    return MemoryParams(
        weight=fitted.memory.weight,
        temperature=widened.temperature,
        counts=tuple(int(count) for count in widened.counts),
        scales=scales,
        vectors=vectors,
    )


def overhead_router(n_skills: int, reference: ReferenceVectors, seed: int) -> Router:
    """A router over ``n_skills`` skills with an `InstantEncoder`, its index already built."""
    catalog = build_catalog(n_skills, seed)
    speller = Speller(catalog.routing.spelling)  # the router embeds texts as it spells them
    texts = [speller.correct(text) for group in catalog.routing_texts() for text in group]
    encoder = instant_encoder(reference, [*texts, *reference.tasks], seed)
    fitted = load_calibration(bundled_catalog_path() / CALIBRATION_FILE)
    if fitted is None:
        raise RuntimeError("the bundled catalog has no readable calibration.json")
    calibration = fitted if catalog.root is not None else widened_calibration(catalog, fitted, seed)
    router = Router(catalog, encoder=encoder, calibration=calibration, cache=False)
    _ = router.index  # embed the skill texts now, outside every timing
    return router
