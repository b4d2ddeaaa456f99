"""The task texts every speed measurement uses: the repository's labelled requests.

``data/{dev,test,train}.yaml`` hold 685 hand-written developer requests of every kind
(terse, long, multi-step, typos, out of scope), so timings cover every routing path.
Texts are cleaned as the router cleans them (`clean_task`), so an encoder fed directly
sees exactly what the router's encoder sees.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.splits import seeded_sample

__all__ = ["DATA_FILES", "TaskTexts", "load_task_texts"]

DATA_FILES = ("dev.yaml", "test.yaml", "train.yaml")


class TaskTexts:
    """Seeded samples for single-task latency and for the batch, from one pool."""

    def __init__(self, pool: list[str], *, latency_n: int, batch_n: int, seed: int) -> None:
        if not pool:
            raise ValueError("no task texts found")
        self.pool = pool
        self.latency = seeded_sample(pool, latency_n, seed)
        self.batch = seeded_sample(pool, batch_n, seed + 1)

    def distinct(self) -> list[str]:
        """Every text either sample uses, once (what must be pre-encoded)."""
        return list(dict.fromkeys([*self.latency, *self.batch]))


def load_task_texts(data_dir: Path, *, latency_n: int, batch_n: int, seed: int) -> TaskTexts:
    """All distinct cleaned texts of the labelled files, then the two seeded samples."""
    from skillroute import load_dataset
    from skillroute.text import clean_task

    pool: dict[str, None] = {}
    for name in DATA_FILES:
        for text in load_dataset(data_dir / name).texts:
            pool.setdefault(clean_task(text), None)
    return TaskTexts(list(pool), latency_n=latency_n, batch_n=batch_n, seed=seed)
