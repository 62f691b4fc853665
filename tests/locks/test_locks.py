"""Reproducible installs: every environment and every layer installs a hash-locked lock.

The locks are compiled by scripts/locks.py (`make lock`) and checked by `make lock-check`.
These tests hold the rules that keep them honest: what the files contain, that every install
reads one, that .venv runs what the layers ship, and that the check fails exactly when an
input and its lock disagree, and never because upstream released something.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
import yaml

from scripts import locks
from stack_model.template import load_template

ROOT = Path(__file__).resolve().parents[2]
MAKEFILES = [ROOT / "Makefile", *sorted((ROOT / "layers").glob("*/Makefile"))]


def _pins(path: str) -> dict[str, str]:
    return locks.pins((ROOT / path).read_text())


# ---------------------------------------------------------------- what the locks contain


@pytest.mark.parametrize("lock", locks.LOCKS, ids=lambda lock: lock.output)
def test_every_requirement_is_pinned_and_hashed(lock):
    text = (ROOT / lock.output).read_text()
    requirement_lines = [
        line for line in text.splitlines() if line and not line.startswith((" ", "#"))
    ]
    assert requirement_lines, f"{lock.output} is empty"
    assert len(requirement_lines) == len(locks.pins(text)), "a requirement is not pinned with =="
    assert locks.unhashed(text) == []
    for path in lock.inputs:
        assert (ROOT / path).exists(), f"{lock.output} names a missing input {path}"


@pytest.mark.parametrize("lock", locks.LAYERS, ids=lambda lock: lock.output)
def test_layer_locks_are_for_lambda_and_need_no_markers(lock):
    assert lock.target == locks.FOR_LAMBDA
    assert all(" " not in name for name in _pins(lock.output)), "a layer pin has a marker"


def test_inputs_pin_their_direct_dependencies_and_include_no_other_file():
    for lock in locks.LOCKS:
        for path in lock.inputs:
            lines = [ln.split("#")[0].strip() for ln in (ROOT / path).read_text().splitlines()]
            requirements = [ln for ln in lines if ln]
            assert requirements, path
            # Inputs are combined by scripts/locks.py, never by -r / -c inside the files.
            assert not [r for r in requirements if r.startswith("-")], path
            assert all("==" in r for r in requirements), path


def test_runtime_layer_ships_boto3_with_the_botocore_of_the_same_release():
    pins = _pins("layers/runtime/requirements.txt")
    assert pins["boto3"] == pins["botocore"]


# ---------------------------------------------------------------- every install reads a lock


def _install_commands() -> list[str]:
    commands = []
    for makefile in MAKEFILES:
        text = makefile.read_text().replace("\\\n", " ")
        commands += [
            " ".join(line.split())
            for line in text.splitlines()
            if re.search(r"(pip|\$\(PIP\)) (install|sync)", line)
        ]
    return commands


def test_every_install_in_the_makefiles_enforces_hashes():
    commands = _install_commands()
    assert len(commands) >= 5, commands  # uv bootstrap, the venv rule, three layers
    assert all("--require-hashes" in command for command in commands), commands
    # Only lock files are installed from: never a bare package name.
    for command in commands:
        sources = re.findall(r"(?:-r )?(\S+\.txt|\$\(2\))", command)
        assert sources, command


def test_every_venv_installs_its_lock():
    makefile = (ROOT / "Makefile").read_text()
    venvs = re.findall(r"\$\(call locked_venv,\$\((\w+)\),(\S+)\)\)", makefile)
    tool_locks = {lock.output for lock in locks.LOCKS if lock not in locks.LAYERS}
    installed = {path for _, path in venvs} | {"requirements/uv.txt"}
    assert installed == tool_locks
    assert "pip install --quiet --require-hashes --no-deps -r requirements/uv.txt" in makefile


def test_sam_builds_every_layer_with_its_makefile_from_the_lock():
    """SAM's own python builder downloads the target's wheels without hashes: makefile it is."""
    resources = load_template(ROOT / "template.yaml")["Resources"]
    layers = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::LayerVersion"}
    assert layers
    for name, layer in layers.items():
        assert layer["Metadata"]["BuildMethod"] == "makefile", name
        folder = ROOT / layer["Properties"]["ContentUri"]
        makefile = (folder / "Makefile").read_text()
        assert f"build-{name}:" in makefile
        assert "--require-hashes" in makefile and "-r requirements.txt" in makefile
        assert (folder / "requirements.txt") in {ROOT / lock.output for lock in locks.LAYERS}


# ---------------------------------------------------------------- .venv runs what ships


@pytest.mark.parametrize("lock", locks.LAYERS, ids=lambda lock: lock.output)
def test_venv_runs_the_layers_versions(lock):
    installed = {
        locks.normalized(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }
    for name, version in _pins(lock.output).items():
        assert installed.get(name) == version, f"{name}: .venv has {installed.get(name)}"


@pytest.mark.parametrize("output", ["requirements/bench.txt", "requirements/fuzz.txt"])
def test_tool_locks_that_run_the_cores_match_the_layers(output):
    tool = _pins(output)
    for layer in (locks.PILLOW, locks.PYARROW):
        for name, version in _pins(layer.output).items():
            assert tool[name] == version, f"{output}: {name}"


# ---------------------------------------------------------------- the check


def test_differences_name_each_changed_added_and_removed_pin():
    locked = "a==1.0 \\\n    --hash=sha256:00\nb==2.0 \\\n    --hash=sha256:11\n"
    fresh = "a==1.1 \\\n    --hash=sha256:22\nc==3.0 \\\n    --hash=sha256:33\n"
    assert locks.differences(locked, fresh) == ["+ c==3.0", "- b==2.0", "~ a: 1.0 -> 1.1"]
    assert locks.differences(locked, locked) == []
    # Hashes may differ (a wheel added later to the same release): the pins decide.
    assert locks.differences(locked, locked.replace("00", "99")) == []
    assert locks.differences("a==1.0\n", "a==1.0 \\\n    --hash=sha256:00\n") == [
        "no hashes: a==1.0"
    ]


@pytest.fixture
def scratch_lock(tmp_path):
    """A one-package input and its lock, in a scratch root, compiled for Lambda."""
    (tmp_path / "requirements.in").write_text("six==1.16.0\n")
    lock = locks.Lock("requirements.txt", ("requirements.in",), locks.FOR_LAMBDA)
    locks.compile_lock(lock, tmp_path)
    assert locks.pins((tmp_path / "requirements.txt").read_text()) == {"six": "1.16.0"}
    return tmp_path, lock


def test_check_fails_when_an_input_changed_and_its_lock_did_not(scratch_lock):
    root, lock = scratch_lock
    assert locks.check_lock(lock, root) == []
    (root / "requirements.in").write_text("six==1.17.0\n")
    assert locks.check_lock(lock, root) == ["~ six: 1.16.0 -> 1.17.0"]
    (root / "requirements.in").write_text("six==1.16.0\ntenacity==9.2.1\n")
    assert locks.check_lock(lock, root) == ["+ tenacity==9.2.1"]


def test_check_passes_when_only_upstream_moved(scratch_lock):
    """An unpinned input whose locked version is no longer the newest is still up to date."""
    root, lock = scratch_lock
    (root / "requirements.in").write_text("six\n")  # six 1.17.0 exists upstream
    assert locks.check_lock(lock, root) == []
    locks.compile_lock(lock, root, upgrade=True)
    assert locks.pins((root / "requirements.txt").read_text())["six"] != "1.16.0"


def test_check_reports_a_missing_lock(tmp_path):
    lock = locks.Lock("requirements.txt", ("requirements.in",), locks.FOR_LAMBDA)
    assert locks.check_lock(lock, tmp_path) == ["missing: requirements.txt"]


# ---------------------------------------------------------------- CI and updates

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_pin_every_action_to_a_full_commit_sha():
    """A tag can be moved; a SHA cannot. The deploy job can assume an AWS role."""
    uses = [
        line.strip()
        for path in WORKFLOWS
        for line in path.read_text().splitlines()
        if line.strip().startswith(("- uses:", "uses:"))
    ]
    assert len(uses) >= 5
    for line in uses:
        assert re.fullmatch(r"-? ?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), line


def test_ci_checks_the_locks_before_it_tests():
    steps = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())["jobs"]["test"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert runs.index("make lock-check") < runs.index("make test")


def test_dependabot_watches_every_input_folder_and_the_actions():
    config = yaml.safe_load((ROOT / ".github/dependabot.yml").read_text())
    pip = next(u for u in config["updates"] if u["package-ecosystem"] == "pip")
    folders = {"/" + str(Path(i).parent) for lock in locks.LOCKS for i in lock.inputs}
    assert set(pip["directories"]) == folders
    actions = next(u for u in config["updates"] if u["package-ecosystem"] == "github-actions")
    assert actions["schedule"]["interval"] == pip["schedule"]["interval"] == "weekly"
