"""pyproject.toml, replaystream.errors.EXTRAS, the README and CI tell the same story about installs."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import packages_distributions

from packaging.requirements import Requirement

from replaystream.errors import EXTRAS

from ._without import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
DECLARED = PROJECT["optional-dependencies"]
README = (ROOT / "README.md").read_text("utf-8")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def packages(requirements: list[str]) -> set[str]:
    return {canonical(Requirement(r).name) for r in requirements}


def test_each_extra_declares_the_packages_of_the_modules_replaystream_imports_from_it() -> None:
    dists = packages_distributions()
    for extra, modules in EXTRAS.items():
        assert extra in DECLARED, f"pyproject.toml declares no [{extra}] extra"
        for module in modules:
            # A module not installed here (the [agents] packages, before CI's fresh [dev]) goes by its name.
            providers = {canonical(d) for d in dists.get(module, [module])}
            assert providers & packages(DECLARED[extra]), f"[{extra}] lacks the package of {module}: {providers}"


def test_the_base_is_pytest_and_httpx2_only() -> None:
    assert packages(PROJECT["dependencies"]) == {"pytest", "httpx2"}
    assert PROJECT["scripts"] == {"replaystream": "replaystream.cli:main"}
    assert PROJECT["entry-points"]["pytest11"] == {"replaystream": "replaystream.plugin"}


def test_all_is_every_extra_and_dev_builds_on_all() -> None:
    features = set(DECLARED) - {"all", "dev"}
    assert features == set(EXTRAS)
    (only,) = DECLARED["all"]
    assert Requirement(only).name == "replaystream" and Requirement(only).extras == features
    assert any(Requirement(r).name == "replaystream" and Requirement(r).extras == {"all"} for r in DECLARED["dev"])


def test_the_readme_lists_every_extra_and_its_packages() -> None:
    for extra, requirements in DECLARED.items():
        row = next((line for line in README.splitlines() if line.startswith(f"| `[{extra}]` |")), None)
        assert row is not None, f"README's install table has no row for [{extra}]"
        if extra not in ("all", "dev"):
            listed = {canonical(p.strip()) for p in row.split("|")[2].split(",")}
            assert listed == packages(requirements), (extra, listed)


def test_the_quick_start_installs_what_the_demo_needs_and_runs_the_ci_test_command() -> None:
    from replaystream.tutorial.demo import AGENT_EXTRAS, DEMO_EXTRAS

    demo, tests = [line for line in README.split("## Quick start", 1)[1].split("```")[1].splitlines()[1:] if line]
    # What the demo needs, and what its agent sections need (without it they are skipped).
    assert f'pip install ".[{",".join(DEMO_EXTRAS + AGENT_EXTRAS)}]" && replaystream demo' in demo
    assert 'pip install -e ".[dev]" && python -m pytest -n 2' in tests
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert 'pip install -q -e ".[dev]"' in ci and "python -m pytest -n 2 " in ci
    assert "pip install -q .\n" in ci and "scripts/check_plain_install.py" in ci  # the plain install, checked
