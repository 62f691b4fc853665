"""The atheris side: a custom mutator, bounds, and a keep-going finding log.

By default a finding (any exception but the core's rejection, a broken output, a hang
caught in Python, a memory blow-up) is logged once per signature under
``fuzz/out/<target>/findings/`` and fuzzing goes on, so one run reports every distinct bug.
``FUZZ_STOP_ON_FINDING=1`` re-raises instead: libFuzzer then writes its crash file and stops.
Hangs inside C code end the process through the faulthandler watchdog (and libFuzzer's own
``-timeout``); ``-rss_limit_mb`` backs up the per-input memory bound.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "image_processor", ROOT / "csv_summarizer", ROOT / "layers" / "runtime", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import atheris  # noqa: E402

from fuzz import mutations  # noqa: E402

Check = Callable[[bytes], str]


class Harness:
    def __init__(
        self,
        target: str,
        check: Check,
        seeds: Sequence[bytes],
        seconds: float,
        memory: int,
        csv: bool = False,
    ) -> None:
        self.target = target
        self.check = check
        self.seeds = list(seeds)
        self.seconds = seconds
        self.memory = memory
        self.csv = csv
        self.out = Path(os.environ.get("FUZZ_OUT", ROOT / "fuzz" / "out")) / target
        self.findings = self.out / "findings"
        self.findings.mkdir(parents=True, exist_ok=True)
        self.stop = os.environ.get("FUZZ_STOP_ON_FINDING") == "1"
        self.seen: set[str] = {p.stem for p in self.findings.glob("*.txt")}
        self.outcomes: dict[str, int] = {}

    def one_input(self, data: bytes) -> None:
        from fuzz.invariants import bounds

        try:
            with bounds(self.seconds, self.memory, alarm=False):
                outcome = self.check(data)
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        except Exception as exc:
            if self.stop:
                raise
            self._record(data, exc)

    def _record(self, data: bytes, exc: BaseException) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/fuzz/" not in f.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
        detail = str(exc).split(":")[0] if type(exc).__name__ == "Violation" else ""
        signature = f"{type(exc).__name__}@{where}{detail}"
        digest = hashlib.sha1(signature.encode()).hexdigest()[:12]
        if digest in self.seen:
            return
        self.seen.add(digest)
        (self.findings / f"{digest}.bin").write_bytes(data)
        text = "".join(traceback.format_exception(exc))
        (self.findings / f"{digest}.txt").write_text(f"{signature}\n\n{text}")
        print(f"\n== FINDING {digest} {signature} ({len(data)} bytes)", file=sys.stderr)

    def mutate(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        roll = rng.random()
        if roll < 0.45 or not data:
            out = atheris.Mutate(data, max_size)
        elif roll < 0.55:
            other = rng.choice(self.seeds)
            out = mutations.apply(
                data, [("splice", 0, rng.randrange(1 << 20), rng.randrange(1 << 20))], [other]
            )
        elif self.csv:
            out = mutations.apply(data, mutations.random_csv_mutations(rng, rng.randint(1, 3)))
        else:
            out = mutations.apply(data, mutations.random_mutations(rng, rng.randint(1, 3)))
        return out[:max_size]

    def main(self, argv: list[str]) -> None:
        atheris.Setup(argv, self.one_input, custom_mutator=self.mutate)
        try:
            atheris.Fuzz()
        finally:
            self.summary()

    def summary(self) -> None:
        print(f"\n== OUTCOMES {self.target} {sorted(self.outcomes.items())}", file=sys.stderr)
        print(f"== FINDINGS {self.target} {len(self.seen)} in {self.findings}", file=sys.stderr)
