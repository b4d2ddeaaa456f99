"""The peer routers, and the one place that decides which systems a run builds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.encoder import CachedEncoder
from benchmarks.peers import semrouter
from benchmarks.peers.embedding_lr import EmbeddingLogReg
from benchmarks.peers.raw_argmax import RawArgmax
from benchmarks.peers.tfidf_lr import TfidfLogReg
from benchmarks.systems import System

__all__ = ["SystemFactory", "factories"]


@dataclass(frozen=True)
class SystemFactory:
    """A named way to make a fresh system, or the reason it cannot be made here."""

    name: str
    make: Callable[[], System] | None
    unavailable: str | None = None


def factories(
    encoder: CachedEncoder, model_path: Path, seed: int, *, with_tuned_bar: bool = True
) -> list[SystemFactory]:
    """All systems in report order; each foreign encoder is created once, here.

    ``with_tuned_bar=False`` drops the second semantic-router variant, which differs only
    in its abstention bar (pointless where nothing abstains, as in MetaTool).
    """
    from benchmarks import skillroute_system

    out: list[SystemFactory] = []
    sr_error = semrouter.import_error()
    if sr_error is None:
        sr_encoder = semrouter.make_encoder(model_path)
        out.append(
            SystemFactory("semantic-router", lambda: semrouter.SemanticRouterSystem(sr_encoder))
        )
        if with_tuned_bar:
            out.append(
                SystemFactory(
                    "semantic-router (tuned bar)",
                    lambda: semrouter.SemanticRouterSystem(sr_encoder, bar="tuned"),
                )
            )
    else:
        out.append(SystemFactory("semantic-router", None, unavailable=sr_error))
    out += [
        SystemFactory("raw-encoder argmax", lambda: RawArgmax(encoder)),
        SystemFactory("tfidf + logreg", lambda: TfidfLogReg(random_state=seed)),
        SystemFactory("embedding + logreg", lambda: EmbeddingLogReg(encoder, random_state=seed)),
    ]
    sk_error = skillroute_system.import_error()
    if sk_error is None:
        sk_encoder = skillroute_system.make_encoder(model_path)
        out.append(
            SystemFactory(
                "skillroute",
                lambda: skillroute_system.SkillrouteSystem(sk_encoder, random_state=seed),
            )
        )
        out.append(
            SystemFactory(
                "skillroute (+fit split)",
                lambda: skillroute_system.SkillrouteSystem(
                    sk_encoder, random_state=seed, learn_from_dataset=True
                ),
            )
        )
    else:
        out.append(SystemFactory("skillroute", None, unavailable=sk_error))
    return out
