"""Compile and check the hash-locked requirements of every layer and every tool environment.

    python scripts/locks.py compile            # `make lock`: every lock from its input
    python scripts/locks.py compile --upgrade  # the same, moving every pin to the newest
    python scripts/locks.py check              # `make lock-check`: inputs and locks agree?

Each `*.in` file is the human-edited input (direct dependencies, with the reasons); the
`*.txt` beside it is the compiled lock: every requirement, transitive ones included, pinned
with `==` and carrying its sha256 hashes. Installs read only the locks.

- The layers are compiled for Lambda (CPython 3.13, manylinux_2_28 aarch64), whatever
  machine runs this.
- The tool environments are compiled universally (any OS and architecture, Python 3.13), so
  the same lock serves CI, this machine and a developer's laptop. Those that run the cores
  take the runtime libraries from the layers' inputs, constrained to the layers' locks: they
  test the versions that `sam build` ships.

`compile` keeps every existing pin that still satisfies the inputs (uv prefers the versions
already in the output file). `check` re-compiles the same way into a scratch copy, so a new
release upstream never fails it; it fails only when the pins differ, that is when an input
changed and its lock was not re-compiled, or when a lock has a requirement without hashes.

Stdlib only: it runs under the bootstrap venv that holds uv (.tools/uv).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FOR_LAMBDA = ("--python-platform", "aarch64-manylinux_2_28", "--python-version", "3.13")
FOR_ANY_MACHINE = ("--universal", "--python-version", "3.13")


@dataclass(frozen=True)
class Lock:
    """One compiled lock: its output, the inputs it is compiled from, and for which target."""

    output: str
    inputs: tuple[str, ...]
    target: tuple[str, ...]
    constraints: tuple[str, ...] = ()


RUNTIME = Lock("layers/runtime/requirements.txt", ("layers/runtime/requirements.in",), FOR_LAMBDA)
PILLOW = Lock("layers/pillow/requirements.txt", ("layers/pillow/requirements.in",), FOR_LAMBDA)
PYARROW = Lock("layers/pyarrow/requirements.txt", ("layers/pyarrow/requirements.in",), FOR_LAMBDA)
LAYERS = (RUNTIME, PILLOW, PYARROW)


def _tools_running_the_cores(output: str, own_input: str, *under: Lock) -> Lock:
    """A tool environment with the runtime libraries at exactly the versions of `under`."""
    return Lock(
        output,
        (own_input, *(i for lock in under for i in lock.inputs)),
        FOR_ANY_MACHINE,
        tuple(lock.output for lock in under),
    )


DEV = _tools_running_the_cores("requirements/dev.txt", "requirements/dev.in", *LAYERS)

# Layers first, then dev: the locks after them are constrained by theirs.
LOCKS: tuple[Lock, ...] = (
    *LAYERS,
    DEV,
    # bench/ runs the cores and the handlers' imports: .venv's set plus the baselines.
    _tools_running_the_cores("requirements/bench.txt", "requirements/bench.in", DEV),
    _tools_running_the_cores("requirements/fuzz.txt", "requirements/fuzz.in", PILLOW, PYARROW),
    Lock("requirements/sam.txt", ("requirements/sam.in",), FOR_ANY_MACHINE),
    Lock("requirements/checkov.txt", ("requirements/checkov.in",), FOR_ANY_MACHINE),
    Lock("requirements/uv.txt", ("requirements/uv.in",), FOR_ANY_MACHINE),
)

_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)\s*(;[^\\]*)?")


class LockError(Exception):
    """A lock cannot be compiled or checked; the message is one line for the user."""


def _uv() -> str:
    """$UV, else uv beside this interpreter, else the Makefile's bootstrap copy."""
    uv = os.environ.get("UV") or shutil.which("uv", path=str(Path(sys.executable).parent))
    bootstrap = ROOT / ".tools" / "uv" / "bin" / "uv"
    if not uv and not bootstrap.exists():
        raise LockError("uv not found: run `make lock` or `make lock-check`, which install it")
    return uv or str(bootstrap)


def compile_lock(lock: Lock, root: Path = ROOT, output: Path | None = None, *, upgrade=False):
    """Compile `lock` into `output` (default: the lock itself), keeping existing pins."""
    command = [
        _uv(),
        "pip",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--no-strip-extras",
        "--custom-compile-command",
        "make lock",
        # Resolve with this interpreter (3.13); never let uv download one.
        "--python",
        sys.executable,
        "--no-python-downloads",
        *lock.target,
        *(arg for c in lock.constraints for arg in ("--constraint", str(root / c))),
        *(str(root / i) for i in lock.inputs),
        "--output-file",
        str(output or root / lock.output),
    ]
    if upgrade:
        command.append("--upgrade")
    # Paths in the header and the "via" comments are relative to the root, wherever it is.
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise LockError(f"{lock.output}: uv pip compile failed: {last}")


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them: ``Pillow_heif`` -> ``pillow-heif``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock_text: str) -> dict[str, str]:
    """`name -> version ; marker` for each requirement of a compiled lock."""
    found = {}
    for line in lock_text.splitlines():
        match = _REQUIREMENT.match(line)
        if match:
            name = normalized(match[1])
            marker = (match[4] or "").strip()
            found[f"{name}{marker and ' ' + marker}"] = match[3]
    return found


def unhashed(lock_text: str) -> list[str]:
    """Requirements in a lock that carry no --hash (pip would refuse the whole file)."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock_text)
    return [
        entry.split()[0]
        for entry in entries
        if _REQUIREMENT.match(entry) and "--hash=sha256:" not in entry
    ]


def differences(locked: str, recompiled: str) -> list[str]:
    """How a lock differs from a fresh compile of its inputs: empty when they agree."""
    old, new = pins(locked), pins(recompiled)
    lines = [f"+ {n}=={new[n]}" for n in sorted(new.keys() - old.keys())]
    lines += [f"- {n}=={old[n]}" for n in sorted(old.keys() - new.keys())]
    lines += [
        f"~ {n}: {old[n]} -> {new[n]}" for n in sorted(old.keys() & new.keys()) if old[n] != new[n]
    ]
    lines += [f"no hashes: {n}" for n in unhashed(locked)]
    return lines


def check_lock(lock: Lock, root: Path = ROOT) -> list[str]:
    """Re-compile `lock` from its inputs into a scratch copy and list what disagrees."""
    path = root / lock.output
    if not path.exists():
        return [f"missing: {lock.output}"]
    return differences(path.read_text(), _compile_copy(lock, root))


def _compile_copy(lock: Lock, root: Path, *, upgrade: bool = False) -> str:
    """The text `lock` compiles to now; the lock file itself is left as it is."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "requirements.txt"
        if (root / lock.output).exists():  # the existing pins are the preferred versions
            shutil.copyfile(root / lock.output, fresh)
        compile_lock(lock, root, fresh, upgrade=upgrade)
        return fresh.read_text()


def update_lock(lock: Lock, root: Path = ROOT, *, upgrade: bool = False) -> bool:
    """Re-compile `lock` in place; True if it changed. An unchanged lock keeps its mtime, so
    make does not rebuild the environments that install it."""
    text = _compile_copy(lock, root, upgrade=upgrade)
    path = root / lock.output
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["compile", "check"])
    parser.add_argument("--upgrade", action="store_true", help="compile: newest releases")
    args = parser.parse_args(argv)
    try:
        if args.command == "compile":
            # In the order of their constraints; each phase in parallel, since uv spends most
            # of its time waiting on the index.
            rest = [lock for lock in LOCKS if lock not in (*LAYERS, DEV)]
            changed: dict[Lock, bool] = {}
            for phase in (LAYERS, [DEV], rest):
                with ThreadPoolExecutor(len(phase)) as pool:
                    updated = pool.map(lambda k: update_lock(k, upgrade=args.upgrade), phase)
                    changed.update(zip(phase, updated, strict=True))
            for lock in LOCKS:
                count = len(pins((ROOT / lock.output).read_text()))
                state = "re-compiled" if changed[lock] else "unchanged"
                print(f"{lock.output}: {state}, {count} pins")
            return 0
        with ThreadPoolExecutor(len(LOCKS)) as pool:
            results = list(pool.map(check_lock, LOCKS))
        for lock, problems in zip(LOCKS, results, strict=True):
            state = "stale: its input changed; run `make lock`" if problems else "up to date"
            print(f"{lock.output}: {state}")
            for problem in problems:
                print(f"    {problem}")
        return 1 if any(results) else 0
    except LockError as error:
        print(f"locks: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
