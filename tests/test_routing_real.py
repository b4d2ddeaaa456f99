"""Routing with the real model on the bundled catalog: the seed's rules, end to end.

Each seed rule is exercised by a realistic task (none of them appears in the dataset or
among the SKILL.md examples); the test checks the primary skill, the plan and the rule
that fired.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skillroute import Router, RouteResult
from skillroute.bundled import bundled_data_path
from skillroute.dataset import Dataset, load_dataset
from skillroute.evaluation.metrics import is_subsequence

# The sets that measure routing and are never fitted on (data/README.md, "What is fitted on").
HELD_OUT_SETS = (
    "test",
    *(f"challenge{n}" for n in (*range(35, 45), *range(50, 55), *range(69, 85))),
)
# The arbiter's gain over the rules alone on those sets but test (see its test below)
ARBITER_GAIN = 70  # measured +100 with the shipped calibration (each set 0 to +7)
ARBITER_WORST_LOSS = 1


def rule_names(result: RouteResult) -> list[str]:
    return [rule.name for rule in result.rules]


SEED_RULES = [
    # "Write/refactor/review plain Python" → python-patterns (+ python-testing for the tests)
    (
        "make this python class more pythonic",
        "python-patterns",
        ("python-patterns", "python-testing"),
        ["intent-plain-python", "plain-python-with-tests"],
    ),
    # "Set up tests / follow TDD" → python-testing ...
    (
        "follow TDD to write a slugify function",
        "python-testing",
        ("python-testing",),
        ["intent-tests"],
    ),
    # ... but a Django app → django-tdd instead
    (
        "how do I use monkeypatch in pytest inside a django codebase",
        "django-tdd",
        ("django-tdd",),
        ["django-tests-use-django-tdd"],
    ),
    # "Build a web app / REST API": batteries-included → django-patterns
    (
        "web app with an ORM and admin site for our library",
        "django-patterns",
        ("django-patterns",),
        ["build-in-django-lane"],
    ),
    # ... async-first / microservice → fastapi-patterns
    (
        "build a small fastapi service that exposes our pricing rules",
        "fastapi-patterns",
        ("fastapi-patterns",),
        ["build-in-fastapi-lane"],
    ),
    # ... an explicit framework choice → python-backend-core
    (
        "Django or FastAPI for a new internal API?",
        "python-backend-core",
        ("python-backend-core",),
        ["framework-choice-to-core"],
    ),
    # "Background jobs / scheduled / async processing" → django-celery
    (
        "periodic task to purge expired sessions",
        "django-celery",
        ("django-celery",),
        ["intent-background-jobs"],
    ),
    # "Lock it down / auth / production hardening" → django-security ...
    (
        "lock down our django admin and fix the production settings",
        "django-security",
        ("django-security",),
        ["intent-lock-it-down"],
    ),
    # ... but FastAPI security lives in fastapi-patterns
    (
        "harden production settings of our starlette service",
        "fastapi-patterns",
        ("fastapi-patterns",),
        ["intent-lock-it-down", "fastapi-security-in-fastapi-patterns"],
    ),
    # "Is it ready to ship? / pre-PR / pre-deploy" → django-verification ...
    (
        "pre-deploy gate for the django app",
        "django-verification",
        ("django-verification",),
        ["intent-ready-to-ship"],
    ),
    # ... non-Django → the equivalent gate from python-testing + mle-workflow
    (
        "ready to deploy? final checks for the pydantic microservice",
        "python-testing",
        ("python-testing", "mle-workflow"),
        ["non-django-gate-to-python-testing", "non-django-ship-gate-companion"],
    ),
    # "Train a model / training loop / GPU" → pytorch-patterns
    (
        "my pytorch training loop runs out of GPU memory",
        "pytorch-patterns",
        ("pytorch-patterns",),
        ["intent-training"],
    ),
    # "Rank/recommend/feed — top-K for a (user, context)" → recsys-pipeline-architect
    (
        "recommend articles to users on the home feed",
        "recsys-pipeline-architect",
        ("recsys-pipeline-architect",),
        ["intent-ranking"],
    ),
    # "Turn notebook code into a production ML system" → mle-workflow (+ the pieces)
    (
        "move the model from a notebook to production with monitoring",
        "mle-workflow",
        ("mle-workflow", "python-patterns", "python-testing"),
        ["intent-notebook-to-production", "notebook-to-production-pieces"],
    ),
]


@pytest.mark.parametrize(
    ("task", "skill", "plan", "rules"), SEED_RULES, ids=[r[3][0] for r in SEED_RULES]
)
def test_seed_rule(
    bundled_router: Router, task: str, skill: str, plan: tuple[str, ...], rules: list[str]
) -> None:
    result = bundled_router.route(task)
    assert result.decision == "routed"
    assert result.skill == skill
    assert result.plan == plan
    assert rule_names(result) == rules
    assert all(rule.reason and rule.effect for rule in result.rules)


def test_celery_retries_route_to_django_celery(bundled_router: Router) -> None:
    result = bundled_router.route("add retries with exponential backoff to my celery task")
    assert (result.decision, result.skill, result.lane, result.stage) == (
        "routed",
        "django-celery",
        "django",
        "async",
    )
    assert result.candidates[0].confidence > 0.9
    assert any("idempotent" in implication for implication in result.implications)
    assert result.next_action.startswith("Load 'django-celery'")


@pytest.mark.parametrize(
    "task",
    [
        "a recipe for banana bread",
        "who won the 1998 world cup",
        "translate 'good night' into german",
        "how long should my warm up be before a 10k run",  # "warm up" and "run" are homonyms
    ],
)
def test_unrelated_requests_abstain(bundled_router: Router, task: str) -> None:
    result = bundled_router.route(task)
    assert (result.decision, result.skill, result.plan) == ("abstain", None, ())


@pytest.mark.parametrize(
    "task",
    [
        # everyday questions about Python itself, worded without "python": the no-skill
        # class read them as any language's how-to until the catalog had such examples
        "How do I create a directory, and any missing parent directories?",
        "How do I copy a file?",
        "What is the purpose of the __slots__ attribute?",
        "How do I sort a dictionary by value?",
    ],
)
def test_everyday_python_questions_route_to_python_patterns(
    bundled_router: Router, task: str
) -> None:
    assert bundled_router.route(task).skill == "python-patterns"


@pytest.mark.parametrize(
    "task",
    [
        "what is the best way to ship a parcel to canada",  # words the domain uses, other senses
        "my dog pulls on the lead, how do I train him to heel",
        "query to get the top 3 salaries per department",  # technical, but no Python back end
    ],
)
def test_the_no_skill_class_abstains_on_look_alikes(bundled_router: Router, task: str) -> None:
    result = bundled_router.route(task)
    assert (result.decision, result.skill) == ("abstain", None)
    assert not any(rule.kind == "abstain" for rule in result.rules)  # the head, not a rule


@pytest.mark.parametrize(
    ("task", "skill", "rule"),
    [
        ("can I freeze a celery soup that has potatoes in it", None, "everyday-out-of-scope"),
        ("how many lessons should I book before my driving test", None, "everyday-out-of-scope"),
        (  # code
            "Recipe model and DRF endpoints for our cooking site",
            "django-patterns",
            "everyday-out-of-scope",
        ),
        (
            "the celery task that imports recipes from the partner feed hangs",
            "django-celery",
            "everyday-out-of-scope",
        ),
        (  # a data platform's own work is out of scope ...
            "kafka consumer lag keeps growing on the orders topic, how do I scale the consumers",
            None,
            "data-platform-out-of-scope",
        ),
        (  # ... unless it feeds the ML pipeline the task is about
            "we stream clicks through Kafka; which impressions should the recommender log so its"
            " future training data is unbiased?",
            "recsys-pipeline-architect",
            "data-platform-out-of-scope",
        ),
        (
            "my sourdough starter smells like acetone, should I feed it more often",
            None,
            "everyday-out-of-scope",
        ),
        (  # nginx's own upload limit is infrastructure
            "where do I set client_max_body_size for 20MB uploads",
            None,
            "other-stack-out-of-scope",
        ),
        (  # "express" the verb is no Express.js
            "how do we express the promotion criteria for our MLflow models as code instead of"
            " eyeballing the UI?",
            "mle-workflow",
            "other-stack-out-of-scope",
        ),
        (  # SQL itself is database work
            "postgres query for the 3 newest orders per customer, window function please",
            None,
            "sql-only-out-of-scope",
        ),
        ("running total of signups per week, just the query", None, "sql-only-out-of-scope"),
        # the snake: "python" itself is the homonym, so only code words keep the task
        ("my ball python hasn't eaten in three weeks", None, "pet-python-out-of-scope"),
        (
            "snake_case vs camelCase for python function names",
            "python-patterns",
            "pet-python-out-of-scope",
        ),
        ("write a snake game in python with pygame", "python-patterns", "pet-python-out-of-scope"),
        # another stack, named by its version
        (".NET 8 minimal API with FluentValidation", None, "other-stack-out-of-scope"),
        # ... or spelled with symbols
        ("How do I read a file line by line in C#?", None, "other-stack-out-of-scope"),
        ("C++: how do I split a string on a delimiter?", None, "other-stack-out-of-scope"),
        # other languages' ML stacks (near misses written for challenge59)
        ("ALS recommender in Spark MLlib with Scala, tune rank", None, "other-stack-out-of-scope"),
        ("TensorFlow.js pose model gets 3 fps in the browser", None, "other-stack-out-of-scope"),
        (  # ... unless the Python side is asked for
            "export our PyTorch classifier to CoreML for the iPhone app",
            "pytorch-patterns",
            "other-stack-out-of-scope",
        ),
        # another stack named as context, or Django's own words beside a front end
        (
            "How can I make this class more pythonic? it has getters and setters like in Java",
            "python-patterns",
            "other-stack-out-of-scope",
        ),
        (  # "Java-style" compares a design with another stack's habits
            "is calling the ORM straight from route handlers fine, or is a repository layer just"
            " Java-style ceremony?",
            "python-backend-core",
            "other-stack-out-of-scope",
        ),
        (
            "CSRF verification failed. Request aborted. when the React app posts a form to our API",
            "django-security",
            "other-stack-out-of-scope",
        ),
        (  # a Django library names the back end the mobile app talks to
            "refresh token rotation with simplejwt for the Flutter client, blacklist after logout",
            "django-security",
            "other-stack-out-of-scope",
        ),
        (
            "rolling deploy: old pods still read the column this migration drops, is it safe to ship?",
            "django-verification",
            "other-stack-out-of-scope",
        ),
        (  # the ORM
            "group by month in a django queryset with annotate",
            "django-patterns",
            "sql-only-out-of-scope",
        ),
        (  # a Python function named after the SQL phrase (prose_only in routing.yaml)
            "refactor group_by_assignee() in services.py to use itertools.groupby",
            "python-patterns",
            "sql-only-out-of-scope",
        ),
        (  # a recommender that outgrew its SQL query is a system to design
            "our related-articles box is a single SQL query; redesign it as a recommender with"
            " candidate generation and ranking",
            "recsys-pipeline-architect",
            "sql-only-out-of-scope",
        ),
        (  # a file name, a repository and its tooling are code too
            "refactor the recipe importer in recipes/load.py into frozen dataclasses",
            "python-patterns",
            "everyday-out-of-scope",
        ),
        (
            "run ruff and mypy on the soup-kitchen volunteer repo and fix what they flag",
            "python-patterns",
            "everyday-out-of-scope",
        ),
        (  # a git word beside Django's migration commands is no other stack
            "two 0031 migrations in the orders app after the merge: makemigrations --merge or"
            " rebase?",
            "django-verification",
            "other-stack-out-of-scope",
        ),
        (  # ... or after a dish
            "get_recipes() returns duplicates after I added prefetch_related",
            "django-patterns",
            "everyday-out-of-scope",
        ),
    ],
)
def test_guardrail_rules_abstain_unless_the_task_speaks_of_code(
    bundled_router: Router, task: str, skill: str | None, rule: str
) -> None:
    result = bundled_router.route(task)
    assert result.skill == skill
    assert (rule in rule_names(result)) == (skill is None)


@pytest.mark.parametrize(
    ("task", "skill"),
    [
        ("is celery juice worth drinking every morning", None),
        ("how long does a butane torch last for creme brulee", None),
        ("does a headlamp or a torch work better for night fishing", None),
        # the same words in their domain sense keep their route
        ("celery beat sends the same task twice after we scaled to two pods", "django-celery"),
        ("torch.compile makes the first training step very slow", "pytorch-patterns"),
    ],
)
def test_a_task_that_stands_only_on_a_homonym_abstains(
    bundled_router: Router, task: str, skill: str | None
) -> None:
    result = bundled_router.route(task)
    assert result.skill == skill
    assert ("everyday-sense" in rule_names(result)) == (skill is None)


def test_shipped_head_has_the_out_of_scope_class(bundled_router: Router) -> None:
    head = bundled_router.calibration.head
    assert head is not None and head.out_of_scope
    assert len(bundled_router.catalog.out_of_scope_examples) >= 200


@pytest.mark.parametrize(
    ("task", "skill", "rule", "ranked"),
    [
        # django-tdd is for tests: a debugging question about the code is django-patterns'
        (
            "why does my django m2m_changed handler never fire when I add tags",
            "django-patterns",
            "django-tdd-needs-tests",
            ("django-tdd", "django-patterns", "django-verification"),
        ),
        # FastAPI's BackgroundTasks run inside the app: fastapi-patterns, not a Celery queue
        (
            "send the welcome email with BackgroundTasks in the /signup route of main.py",
            "fastapi-patterns",
            "fastapi-background-tasks",
            ("django-celery", "django-tdd", "django-patterns"),
        ),
        # ... also when the task weighs them against Celery: that skill says when each fits
        (
            "should the FastAPI app send the welcome email with BackgroundTasks or a celery worker",
            "fastapi-patterns",
            "fastapi-background-tasks",
            ("django-celery", "fastapi-patterns", "python-backend-core"),
        ),
        # outside Django, a task about the gate itself (listing its checks) is python-testing's
        (
            "pre-merge gate for the fastapi service: lint, types and pytest with coverage",
            "python-testing",
            "non-django-gate-to-python-testing",
            ("python-testing", "fastapi-patterns", "python-patterns"),
        ),
        # a framework-free domain core is the architecture hub's
        (
            "keep the pricing rules framework free so they never import django",
            "python-backend-core",
            "intent-framework-free-core",
            ("python-backend-core", "django-verification", "django-security"),
        ),
        # seeing another customer's record by changing an id is an access-control hole
        (
            "the invoice page shows another customer's invoice when I change the id in the django url",
            "django-security",
            "intent-lock-it-down",
            ("django-security", "django-tdd", "django-patterns"),
        ),
        # "which framework" asks for the choice even when the task lists one lane's needs
        (
            "which framework should we use: we need an admin panel, an ORM and user accounts",
            "python-backend-core",
            "framework-question-to-core",
            ("python-backend-core", "django-security", "django-patterns"),
        ),
        # language features, packaging and CLIs are plain Python's
        (
            "Protocol or ABC for the exporter plugins?",
            "python-patterns",
            "intent-python-tooling",
            ("python-patterns", "mle-workflow", "python-backend-core"),
        ),
        # ... and so are linters and type checkers outside a framework's release gate
        (
            "pre-commit hooks with ruff and mypy",
            "python-patterns",
            "intent-python-tooling",
            ("django-verification", "python-patterns", "django-tdd"),
        ),
        # data contracts, eval gates, shadow and canary releases are production ML
        (
            "add a pandera data contract on the features frame before training",
            "mle-workflow",
            "intent-production-ml",
            ("mle-workflow", "pytorch-patterns", "django-patterns"),
        ),
        # a task's retries are Celery's, also when the ask is to test them
        (
            "write a test that the sync_orders task retries on a 503",
            "django-celery",
            "intent-task-retries",
            ("django-celery", "django-tdd", "python-testing"),
        ),
        # SQL assembled with an f-string is an injection hole
        (
            "the report view builds a raw query with an f-string from request.GET",
            "django-security",
            "intent-sql-from-strings",
            ("django-security", "django-patterns", "django-tdd"),
        ),
        # offloading slow work from a request is background work (offloading tensors is not)
        (
            "the monthly report request times out at 30s in our django app, how do I offload the work?",
            "django-celery",
            "intent-offload",
            ("django-celery", "django-patterns", "django-security"),
        ),
        # asking how to test something outside Django is python-testing's question
        (
            "how do I test a FastAPI route that uses get_session without a real database?",
            "python-testing",
            "intent-tests",
            ("fastapi-patterns", "python-testing", "django-tdd"),
        ),
        # DRF's and Django's test-client calls name the Django lane
        (
            "force_authenticate still 401 in tests",
            "django-tdd",
            "django-tests-use-django-tdd",
            ("python-testing", "django-tdd", "fastapi-patterns"),
        ),
        # users limited to their own objects is access control
        (
            "DRF: each user should only edit their own objects in the notes API",
            "django-security",
            "intent-lock-it-down",
            ("django-security", "django-patterns", "django-tdd"),
        ),
        # a model packaged for batch inference is production ML, even when it names PyTorch
        (
            "package the trained pytorch model with its preprocessing for batch inference",
            "mle-workflow",
            "intent-production-ml",
            ("pytorch-patterns", "mle-workflow", "python-testing"),
        ),
        # middleware is one of django-patterns' building blocks
        (
            "middleware that adds a request id header to every response",
            "django-patterns",
            "intent-django-middleware",
            ("django-tdd", "fastapi-patterns", "django-patterns"),
        ),
        # a test for Django code is django-tdd's, also when plain Python ranks first
        (
            "add a test for this management command\n\nclass Command(BaseCommand):\n"
            "    def handle(self, *args, **opts):\n        self.stdout.write(str(count_rows()))",
            "django-tdd",
            "django-lane-tests-use-django-tdd",
            ("python-patterns", "django-tdd", "python-testing"),
        ),
        # a question about tests that names no Django and no release is python-testing's
        (
            "full line coverage yet bugs get through; would branch coverage catch more?",
            "python-testing",
            "tests-without-a-gate",
            ("django-verification", "python-testing", "python-patterns"),
        ),
    ],
)
def test_rule_settles_a_near_tie(
    bundled_router: Router, task: str, skill: str, rule: str, ranked: tuple[str, ...]
) -> None:
    """The rule picks ``skill`` from the ranking an embedding-only head gave the task.

    The fitted head has since learned many of these tasks from its word features, so the
    rule is also checked on that ranking directly, where it still has the work to do.
    """
    assert bundled_router.route(task).skill == skill
    engine = bundled_router.rules
    outcome = engine.apply(engine.detect(task), "ambiguous", list(ranked))
    assert outcome.primary == skill
    assert rule in [fired.name for fired in outcome.fired]


def test_four_stage_django_request_fans_out_in_lifecycle_order(
    bundled_router: Router,
) -> None:
    result = bundled_router.route(
        "First model the Invoice tables in Django, then cover them with tests, then lock "
        "down the views, and finally run the release checklist before we ship"
    )
    assert result.plan[0] == "django-patterns"
    assert result.plan[-1] == "django-verification"
    assert {"django-tdd", "django-security"} <= set(result.plan)
    plan_rules = {"django-fan-out", "django-build-and-verify", "django-full-fan-out"}
    assert plan_rules & set(rule_names(result))


def test_writing_tests_then_passing_the_gate_is_two_steps(bundled_router: Router) -> None:
    result = bundled_router.route(
        "django: add tests for the refund views, then run the pre-merge checks"
    )
    assert result.skill == "django-tdd"
    assert result.plan[0] == "django-tdd" and result.plan[-1] == "django-verification"
    assert "django-tests-then-gate" in rule_names(result)
    # a question about the gate's checks stays a single step
    gate = bundled_router.route("what should the pre-merge gate of our django app run?")
    assert (gate.skill, gate.plan) == ("django-verification", ("django-verification",))


def test_an_f_string_is_an_injection_hole_only_in_sql(bundled_router: Router) -> None:
    sql = bundled_router.route(
        "the report view builds a raw query with an f-string from request.GET"
    )
    assert sql.skill == "django-security"
    logs = bundled_router.route("f-string or str.format for log messages?")
    assert logs.skill == "python-patterns"
    assert "intent-sql-from-strings" not in rule_names(logs)


def test_fixing_security_findings_then_passing_the_gate_is_two_steps(
    bundled_router: Router,
) -> None:
    task = (
        "fix the IDOR and the DEBUG setting from the pentest, then run the pre-deploy checks "
        "for our Django app"
    )
    result = bundled_router.route(task)
    assert result.skill == "django-security"
    assert result.plan == ("django-security", "django-verification")
    # when the gate's words make django-verification the primary, the fixes still come first
    engine = bundled_router.rules
    ranked = ["django-tdd", "django-verification", "django-security"]
    outcome = engine.apply(engine.detect(task), "routed", ranked)
    assert outcome.primary == "django-security"
    assert outcome.plan == ("django-security", "django-verification")
    assert "django-fix-then-gate" in [fired.name for fired in outcome.fired]


@pytest.mark.parametrize(
    "task",
    [
        "set up a make verify target for the django repo: ruff, mypy, pytest and the migration check",
        "set up a GitHub Actions workflow for our django repo that blocks the merge unless lint,"
        " migrations check and tests pass",
    ],
)
def test_building_the_gate_itself_is_the_gates_work(bundled_router: Router, task: str) -> None:
    """ "Set up a verify target" names a build verb, yet the thing built is the gate."""
    result = bundled_router.route(task)
    assert (result.skill, result.plan) == ("django-verification", ("django-verification",))
    assert not {"django-build-and-verify", "django-full-fan-out"} & set(rule_names(result))


def test_receiving_webhooks_is_an_endpoint_and_sending_them_is_background_work(
    bundled_router: Router,
) -> None:
    inbound = bundled_router.route(
        "add a webhook endpoint for Stripe events in our django app, then write tests for it"
    )
    assert inbound.plan == ("django-patterns", "django-tdd")
    receiver = bundled_router.route(
        "Adds the Stripe webhook receiver to payments/views.py in our Django app. "
        "Reviewer: is the signature verification right?"
    )
    assert "django-celery" not in receiver.plan
    outbound = bundled_router.route(
        "deliver webhooks to partner URLs from our django app, retrying when they are down"
    )
    assert outbound.skill == "django-celery"
    assert "async" in outbound.signals.stages


def test_factory_boy_words_name_the_django_lane(bundled_router: Router) -> None:
    task = (
        "a factory with SubFactory for the order's customer, and a post_generation for line items"
    )
    assert bundled_router.rules.detect(task).dominant_lane == "django"
    assert bundled_router.route(task).skill == "django-tdd"


@pytest.mark.parametrize(
    ("task", "lane"),
    [
        ("pre-merge checks for our plain python lib (no django): ruff, mypy, pytest", "foundation"),
        ("replace orm_mode with from_attributes in our schemas", "fastapi"),  # not the Django ORM
        ("the django orm is slow on this page", "django"),
        # the Django a task leaves alone is no Django mention
        (
            "we're not touching the Django side this sprint: a retry decorator with jitter for"
            " the shared utils package",
            "foundation",
        ),
    ],
)
def test_a_word_inside_another_lanes_phrase_does_not_count(
    bundled_router: Router, task: str, lane: str
) -> None:
    signals = bundled_router.rules.detect(task)
    assert signals.dominant_lane == lane
    assert list(signals.lanes) == [lane]


def test_a_non_django_gate_names_django_only_to_exclude_it(bundled_router: Router) -> None:
    result = bundled_router.route(
        "pre-merge checks for our plain python lib (no django): ruff, mypy, pytest"
    )
    assert result.skill == "python-testing"
    assert "non-django-gate-to-python-testing" in rule_names(result)


@pytest.mark.parametrize(
    "task",
    [
        "add helmet and rate limiting to my express api",
        "@PreAuthorize is ignored on the ReportController, any logged-in user gets the export",
        "Hibernate lazy loading in OrderService blows up outside the transaction",
    ],
)
def test_another_languages_stack_abstains_by_rule(bundled_router: Router, task: str) -> None:
    result = bundled_router.route(task)
    assert result.decision == "abstain"
    assert rule_names(result) == ["other-stack-out-of-scope"]


def test_spring_the_season_is_no_other_stack(bundled_router: Router) -> None:
    result = bundled_router.route(
        "monitor the demand forecaster for drift, the spring sales changed everything"
    )
    assert "other-stack-out-of-scope" not in rule_names(result)
    assert result.skill == "mle-workflow"


def test_build_and_ship_fans_out_in_lifecycle_order(bundled_router: Router) -> None:
    result = bundled_router.route(
        "build and ship a Django REST API with tests, auth and background reminder emails"
    )
    assert result.skill == "django-patterns"
    assert result.plan == (
        "django-patterns",
        "django-tdd",
        "django-security",
        "django-celery",
        "django-verification",
    )
    assert "django-fan-out" in rule_names(result)
    assert result.lane == "django" and result.stage == "implement"
    assert set(result.signals.stages) >= {"implement", "test", "secure", "async", "ship"}


def test_conditional_step_appears_only_when_asked(bundled_router: Router) -> None:
    result = bundled_router.route("build and ship a Django API")
    assert result.plan == (
        "django-patterns",
        "django-tdd",
        "django-security",
        "django-verification",
    )


@pytest.mark.parametrize(
    "task",
    [
        "train the segmentation model with DDP on 4 GPUs, then register it in MLflow and set up"
        " retraining triggers",
        "write the training loop in pytorch, then add a promotion gate against the production model",
        # "promotion" and "into the registry" ask for the ship step as "promote" does
        "pytorch training loop for the churn net, and promotion only if it beats the current one",
        "fix the exploding loss in the pytorch train loop, then get the best checkpoint into the"
        " registry",
    ],
)
def test_registering_and_promoting_a_model_are_ship_steps_after_training(
    bundled_router: Router, task: str
) -> None:
    result = bundled_router.route(task)
    assert (result.skill, result.plan) == ("pytorch-patterns", ("pytorch-patterns", "mle-workflow"))


def test_turning_code_into_types_is_a_step_before_its_tests(bundled_router: Router) -> None:
    result = bundled_router.route(
        "config.py is a tangle of nested dicts: turn it into typed dataclasses, then cover it with"
        " pytest"
    )
    assert (result.skill, result.plan) == ("python-patterns", ("python-patterns", "python-testing"))


@pytest.mark.parametrize(
    ("task", "plan"),
    [
        # a bare noun phrase in a Django list ("orders API in DRF") is the build step
        (
            "orders API in DRF + tests + pre-merge checks",
            ("django-patterns", "django-tdd", "django-verification"),
        ),
        # training words beyond "pytorch" bring the training step into an ML plan
        (
            "train the resnet with mixed precision and checkpointing, then add an eval gate before promotion",
            ("pytorch-patterns", "mle-workflow"),
        ),
        # "training a ..." asks for the training step as "train a ..." does
        (
            "Training a text classifier in PyTorch and then getting it into production with monitoring",
            ("pytorch-patterns", "mle-workflow"),
        ),
        # an IDOR is a security step, "deployable" a ship step; the rules lead with the tests,
        # but the head is sure of django-patterns ("endpoints") and the arbiter follows it:
        # a known regression of the word-feature head (its rule names "django-tdd → ...")
        pytest.param(
            "DRF todo: tests for the refunds endpoints, then fix the IDOR on refund detail, "
            "then make sure it is deployable",
            ("django-tdd", "django-security", "django-verification"),
            marks=pytest.mark.xfail(strict=True, reason="the arbiter leads with django-patterns"),
        ),
        # "writing a ..." is a build step, like "write a ..."
        (
            "Writing a small Python package for parsing GPX files, plus a pytest suite",
            ("python-patterns", "python-testing"),
        ),
        # eval gates (plural) and tracking runs are the ship step after training
        (
            "fine-tune the speech model with a pytorch training loop, then add eval gates",
            ("pytorch-patterns", "mle-workflow"),
        ),
        (
            "write the pytorch training loop for the price model, after that track runs in wandb",
            ("pytorch-patterns", "mle-workflow"),
        ),
        # an inline numbered list: each item is a clause, so "endpoint" is item 1's build step
        (
            "todo 1) invoices endpoint in django 2) a nightly celery job for reminders",
            ("django-patterns", "django-celery"),
        ),
        # whose records a user may open is access control, when nothing else is asked
        (
            "add the Invoice model and DRF endpoints, and customers should open their own invoices",
            ("django-patterns", "django-security"),
        ),
        # a verification checklist is the Django gate
        (
            "1) add a nickname field to the Member model 2) pytest-django tests for it 3) run the"
            " verification checklist",
            ("django-patterns", "django-tdd", "django-verification"),
        ),
        # a numbered list moves on at its second item: item 1's unnamed work is the build
        (
            "1. Pydantic settings for the notifier service 2. startup in lifespan 3. pytest-asyncio"
            " tests with dependency_overrides",
            ("fastapi-patterns", "python-testing"),
        ),
        # a later clause asking for a test is a next step; restricting views is access control
        (
            "the django orders admin makes a query per row, fix it with select_related, and add a"
            " test that pins the query count",
            ("django-patterns", "django-tdd"),
        ),
        (
            "1) Booking model in the django app 2) factories and tests 3) restrict the views to"
            " front-desk staff",
            ("django-patterns", "django-tdd", "django-security"),
        ),
        # enqueueing is background work; "roll it out" ships the model service
        (
            "add a DRF endpoint that starts the export and enqueue the CSV build after commit",
            ("django-patterns", "django-celery"),
        ),
        (
            "serve the churn classifier from a FastAPI route, add tests, then roll it out to 5%"
            " of traffic",
            ("fastapi-patterns", "python-testing", "mle-workflow"),
        ),
        # words for access scoping, schedules, the owner lock and shipping; a ticket's "Done
        # when" follows the work it asks for
        (
            "Quote model and DRF endpoints in the django app, tests with factories, and each"
            " branch only sees its own quotes",
            ("django-patterns", "django-tdd", "django-security"),
        ),
        (
            "in the django app, stale carts should be released every minute; write the model"
            " method and a test for it",
            ("django-patterns", "django-tdd", "django-celery"),
        ),
        (
            "user avatars in our django app: the upload endpoint, locked down to the owner,"
            " shipped by friday",
            ("django-patterns", "django-security", "django-verification"),
        ),
        (
            "Ticket: a websocket price feed in the FastAPI app. Done when: tests cover"
            " reconnects and slow clients",
            ("fastapi-patterns", "python-testing"),
        ),
        (
            "pytest-django tests for the coupons app, then gate the PR",
            ("django-tdd", "django-verification"),
        ),
        (
            "rotate the leaked SECRET_KEY of our Django site; also the welcome emails should go"
            " out from a worker",
            ("django-security", "django-celery"),
        ),
        # one stage named after "then": the ranking asked first is the primary's own step
        (
            "rank the top 3 push notifications per user from the day's candidates, then "
            "monitoring and rollback once the scorer is live",
            ("recsys-pipeline-architect", "mle-workflow"),
        ),
    ],
)
def test_list_style_requests_plan_every_stage_they_name(
    bundled_router: Router, task: str, plan: tuple[str, ...]
) -> None:
    result = bundled_router.route(task)
    assert result.skill == plan[0]
    assert is_subsequence(plan, result.plan), result.plan


def test_offloading_tensors_is_not_background_work(bundled_router: Router) -> None:
    result = bundled_router.route("offload the optimizer states to CPU so the model fits in memory")
    assert result.skill == "pytorch-patterns"
    assert "intent-offload" not in rule_names(result)


@pytest.mark.parametrize(
    "task",
    [
        'RuntimeError: Database access not allowed, use the "django_db" mark to enable it.',
        "RuntimeError: Database access not allowed when my fixture creates a user",
    ],
)
def test_pytest_djangos_own_error_is_about_django_tests(bundled_router: Router, task: str) -> None:
    """The error may name neither Django nor a test, but only pytest-django prints it."""
    result = bundled_router.route(task)
    assert result.skill == "django-tdd"
    assert "django-tdd-needs-tests" not in rule_names(result)


def test_a_confident_question_about_the_hub_leads_the_plan(bundled_router: Router) -> None:
    """The stages a design question names (a CLI, a queue) are context: the hub leads."""
    result = bundled_router.route(
        "how should I keep business rules out of my HTTP handlers so that a CLI and a queue"
        " consumer can share them?"
    )
    assert result.skill == result.plan[0] == "python-backend-core"


@pytest.mark.parametrize(
    ("task", "plan"),
    [
        # "how do I X and then Y?" lists its asks in order: the first step leads
        (
            "how do I add a Coupon model with a DRF viewset and then write tests for it?",
            ("django-patterns", "django-tdd"),
        ),
        (
            "how should I lay out the coupons app in django, and how do I test it?",
            ("django-patterns", "django-tdd"),
        ),
        # named out of order: "but first" hands the lead to the lifecycle's first step
        (
            "release at the end of course, but first build the Coupon model with its DRF endpoint"
            " and write tests for it",
            ("django-patterns", "django-tdd", "django-verification"),
        ),
        # a predeploy gate is the ship step after the hardening
        (
            "harden the settings for production and then run the predeploy gate on the django app",
            ("django-security", "django-verification"),
        ),
        # setting up pytest-django is the test step before the gate
        (
            "set up pytest-django on the old shop project, then make the verification loop pass in CI",
            ("django-tdd", "django-verification"),
        ),
        # "after that" orders a question's asks; "only see his own" is access control
        (
            "how do I build the invoices model in django, and after that how do I test it?",
            ("django-patterns", "django-tdd"),
        ),
        (
            "build the Appointment model in django, then its tests, and a doctor must only see his"
            " own appointments",
            ("django-patterns", "django-tdd", "django-security"),
        ),
        # rolling back is a ship step; a retraining pipeline is production ML after training
        (
            "design the recommender for the home feed, then plan how we monitor it and roll back a"
            " bad model",
            ("recsys-pipeline-architect", "mle-workflow"),
        ),
        (
            "fix the resume logic in our DDP training script, and after that set up a retraining"
            " pipeline with versioned data",
            ("pytorch-patterns", "mle-workflow"),
        ),
        # a module with zero Django imports is plain Python, whoever imports it
        (
            "refactor the tax module (the django app imports it, but it has zero django imports)"
            " into dataclasses and add pytest tests",
            ("python-patterns", "python-testing"),
        ),
    ],
)
def test_asks_in_order_lead_with_their_first_step(
    bundled_router: Router, task: str, plan: tuple[str, ...]
) -> None:
    result = bundled_router.route(task)
    assert result.skill == plan[0]
    assert is_subsequence(plan, result.plan), result.plan


@pytest.mark.parametrize(
    ("task", "skill"),
    [
        # a tie between FastAPI and plain Python is still no Django: the non-Django gate
        ("FastAPI service, no Django anywhere: what should run before merge?", "python-testing"),
        (
            "pre-merge gate for our python SDK, no web framework: what should CI check?",
            "python-testing",
        ),
        (
            "is our pure-python date library ready to release? what should the pre-merge gate run?",
            "python-testing",
        ),
        # testing a task's autoretry is the Celery skill's work, not a generic test question
        ("unit test for autoretry_for on the sync task, I want to watch it retry", "django-celery"),
        (
            "call_command('rebuild_index') inside a test, then assert the index has 3 rows",
            "django-tdd",
        ),
        (
            "what is the pytest equivalent of assertNumQueries for an N+1 check on the list view",
            "django-tdd",
        ),
        # Django's own test API names the framework: its tests are django-tdd's
        (
            "setUpTestData runs once per class, so why do my tests see each other's rows?",
            "django-tdd",
        ),
        ("assertRedirects fails with a 301 after we added APPEND_SLASH", "django-tdd"),
        (
            "pentest found that a logged-in user can download another user's export by changing the id",
            "django-security",
        ),
        # a test case class without "test" at its start is still a test
        ("TransactionTestCase or django_capture_on_commit_callbacks for the signal?", "django-tdd"),
        # a page named as a report's subject is context: the ask is the mail's move
        (
            "the django password reset view is slow since it sends the mail inline, move that"
            " off the request",
            "django-celery",
        ),
    ],
)
def test_django_words_and_access_reports_name_their_skill(
    bundled_router: Router, task: str, skill: str
) -> None:
    assert bundled_router.route(task).skill == skill


def test_serving_a_trained_model_behind_fastapi_is_the_services_work(
    bundled_router: Router,
) -> None:
    """PyTorch ranked first, but the task serves the model: FastAPI builds it, mle ships it."""
    engine = bundled_router.rules
    task = "serve our trained PyTorch classifier behind a FastAPI /predict endpoint, add tests, then a canary"
    ranked = ["pytorch-patterns", "fastapi-patterns", "python-testing"]
    outcome = engine.apply(engine.detect(task), "routed", ranked)
    assert outcome.primary == "fastapi-patterns"
    assert outcome.plan == ("fastapi-patterns", "python-testing", "mle-workflow")
    assert "model-service-in-fastapi" in [rule.name for rule in outcome.fired]
    trained = engine.apply(
        engine.detect("train the PyTorch classifier, then serve it behind a FastAPI endpoint"),
        "routed",
        ranked,
    )
    assert trained.primary == "pytorch-patterns"  # training it is PyTorch's work


def test_an_access_report_below_the_abstain_bar_is_lifted_by_its_intent(
    bundled_router: Router,
) -> None:
    """Similarity doubts a terse bug-bounty report; its words vouch for the top candidate."""
    task = (
        "bug bounty finding: swapping the id in /teams/<id>/members/ lists another team's members"
    )
    assert bundled_router.route(task).skill == "django-security"
    # the shipped head is sure enough of it; below the bar, the rules lift it
    engine = bundled_router.rules
    ranked = ["django-security", "django-celery", "mle-workflow"]
    outcome = engine.apply(engine.detect(task), "abstain", ranked)
    assert (outcome.decision, outcome.primary) == ("routed", "django-security")
    assert "intent-lock-it-down" in [fired.name for fired in outcome.fired]
    # a task below the bar whose words ask for no skill of the top two stays abstained
    plain = engine.apply(engine.detect("lists the members of each team"), "abstain", ranked)
    assert (plain.decision, plain.primary) == ("abstain", None)


def test_a_polite_request_leads_with_the_first_step(bundled_router: Router) -> None:
    """ "Can you build it, then test it?" is a request told in order, not a question."""
    result = bundled_router.route(
        "can you restructure this settings loader into a typed dataclass module and then write"
        " pytest tests for it?"
    )
    assert result.skill == result.plan[0] == "python-patterns"
    assert "python-testing" in result.plan


def test_single_step_request_gets_a_single_step_plan(bundled_router: Router) -> None:
    result = bundled_router.route("the celery worker stops consuming after a redis restart")
    assert result.skill == "django-celery"
    assert result.plan == ("django-celery",)


@pytest.mark.parametrize(
    ("task", "skill", "plan"),
    [
        (
            "is the billing feature ready to ship? it's a django app and we just finished building it",
            "django-verification",
            ("django-patterns", "django-tdd", "django-security", "django-verification"),
        ),
        (  # outside Django, python-testing stands for the ship gate it replaced
            "ready to release our plain python package? we need tests, coverage and packaging checks",
            "python-testing",
            ("python-patterns", "python-testing", "mle-workflow"),
        ),
    ],
)
def test_a_request_that_opens_with_a_later_stage_is_about_that_stage(
    bundled_router: Router, task: str, skill: str, plan: tuple[str, ...]
) -> None:
    result = bundled_router.route(task)
    assert (result.skill, result.plan) == (skill, plan)


def outcome(result: RouteResult) -> tuple[object, ...]:
    return (
        result.decision,
        result.skill,
        result.plan,
        tuple(rule_names(result)),
        tuple(c.name for c in result.candidates),
    )


def test_batch_routing_is_deterministic_and_matches_single_calls(bundled_router: Router) -> None:
    tasks = [task for task, *_ in SEED_RULES]
    first = bundled_router.route_batch(tasks)
    assert bundled_router.route_batch(tasks) == first  # bit-for-bit the same
    singles = [bundled_router.route(task) for task in tasks]
    # a batch pads texts to a common length, which moves scores by float noise only
    assert [outcome(r) for r in singles] == [outcome(r) for r in first]
    for single, batched in zip(singles, first, strict=True):
        assert single.confidence == pytest.approx(batched.confidence, abs=1e-3)


def test_long_and_mixed_script_inputs_give_sensible_results(bundled_router: Router) -> None:
    long_task = ("my celery beat schedule fires twice after every deploy. " * 1_800)[:100_000]
    assert len(long_task) <= 100_000
    assert bundled_router.route(long_task).skill == "django-celery"
    mixed = bundled_router.route("Django の テスト を pytest で 書きたい")
    assert mixed.signals.lanes["django"] == ("django",)  # routed or abstained, never a crash
    assert mixed.decision in {"routed", "ambiguous", "abstain"}
    assert bundled_router.route("完全に無関係な料理のレシピ").decision == "abstain"


@pytest.mark.parametrize(
    ("task", "skill"),
    [
        # everyday questions in scripts the English model cannot read: none is a catalog
        # example (those teach "no skill" other questions in these scripts)
        ("قطار الرياض إلى جدة كم ساعة", None),
        ("明天会下雨吗", None),
        ("лучший рецепт борща", None),
        ("강아지 산책은 하루에 몇 번?", None),
        ("टमाटर की चटनी कैसे बनाएं", None),
        # the same scripts around the domain's words keep their route
        ("как настроить retry с exponential backoff в celery задаче", "django-celery"),  # noqa: RUF001 (Cyrillic on purpose)
        ("如何在 FastAPI 中使用 Depends 做依赖注入", "fastapi-patterns"),
        ("pytest の fixture の scope を教えて", "python-testing"),
    ],
)
def test_other_scripts_abstain_unless_they_name_the_domain(
    bundled_router: Router, task: str, skill: str | None
) -> None:
    result = bundled_router.route(task)
    assert result.skill == skill, result.candidates[:2]
    assert (result.decision == "abstain") is (skill is None)


_PASTED_TRACEBACK = "Traceback (most recent call last):\n" + "\n".join(
    f'File "/srv/app/.venv/lib/python3.11/site-packages/urllib3/connectionpool.py", line {n}, '
    f"in urlopen\nconn.request(method, url, **httplib_request_kw)"
    for n in range(100, 400, 10)
)


def test_the_ask_after_a_long_paste_is_read(bundled_router: Router) -> None:
    """The model's window holds 256 word pieces: a question after a long paste still counts."""
    asks = {
        "the task calling the partner API dies on this; how do I make it retry with "
        "exponential backoff and give up after five tries?": "django-celery",
        "how do I write a pytest test that fakes this partner API instead of calling it?": (
            "python-testing"
        ),
    }
    posts = [f"{_PASTED_TRACEBACK}\n{ask}" for ask in asks]
    results = bundled_router.route_batch(posts)
    assert [result.skill for result in results] == list(asks.values())
    rankings = {tuple(c.name for c in result.candidates) for result in results}
    assert len(rankings) == len(asks)  # the asks, not the shared paste, rank the skills


def test_shipped_calibration_matches_the_catalog(bundled_router: Router) -> None:
    """Editing SKILL.md or routing.yaml examples without re-running `skillroute fit` fails here."""
    calibration = bundled_router.calibration
    assert calibration.fit is not None, "skills/python-backend/calibration.json is stale or missing"
    assert calibration.catalog_fingerprint == bundled_router.catalog.fingerprint()
    # fitted by `skillroute fit @data/fit.args`, on exactly the sets that file names
    arguments = (bundled_data_path() / "fit.args").read_text().split()
    named = {
        option: [arg.split("=", 1)[1] for arg in arguments if arg.startswith(f"{option}=")]
        for option in ("--dataset", "--arbiter-data")
    }
    assert calibration.arbiter is not None
    fitted = calibration.fit.dataset.split(" + ")
    arbiter_data = calibration.fit.arbiter_data
    arbiter_only = arbiter_data.split(" + ") if arbiter_data is not None else []
    assert [Path(path).name for path in fitted] == [Path(p).name for p in named["--dataset"]]
    assert [Path(path).name for path in arbiter_only] == [
        Path(p).name for p in named["--arbiter-data"]
    ]
    # the sets that measure the router stay unseen by every fitted part
    seen = {Path(path).stem for path in (*fitted, *arbiter_only)}
    assert not seen & set(HELD_OUT_SETS)


def test_the_arbiter_helps_on_held_out_sets(bundled_router: Router) -> None:
    """Over the sets no fitted part saw, the arbiter gets more primaries right than the
    rules alone, and costs no single set more than an item or two."""
    without = bundled_router.calibration.model_copy(update={"arbiter": None})
    plain = Router(
        bundled_router.catalog,
        encoder=bundled_router.encoder,
        calibration=without,
        cache=bundled_router.cache or False,
    )

    def right(router: Router, dataset: Dataset) -> int:
        results = router.route_batch(dataset.texts)
        return sum(
            result.skill in item.expect
            for item, result in zip(dataset.items, results, strict=True)
            if item.expect
        )

    gains = {}
    for split in HELD_OUT_SETS:
        if split == "test":  # the test split's errors are never read, nor tuned against
            continue
        dataset = load_dataset(bundled_data_path() / f"{split}.yaml")
        gains[split] = right(bundled_router, dataset) - right(plain, dataset)
    assert sum(gains.values()) >= ARBITER_GAIN, gains
    assert min(gains.values()) >= -ARBITER_WORST_LOSS, gains
