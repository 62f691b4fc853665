"""Many small uploads through ``python -m local_pipeline run``: all settle, memory is flat.

Throughput counts events settled per second between the first settled event and the last
(the uploads overlap with the processing). Memory: while the run goes, the test samples
the current RSS of each function's warm worker (/proc) together with the number of that
function's events settled so far, and compares the RSS after N events with the RSS at the
end, after 10N (5N in the bounded run). A leak across invocations would make it climb.
The workers' REPORT lines give their peak RSS (``Max Memory Used``), published alongside.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.reliability.harness import (
    CSV_FUNCTION,
    FULL_SCALE,
    IMAGE_FUNCTION,
    publish,
    report_lines,
    run_pipeline,
    scaled,
    write_inputs,
)

# Allocator arenas and caches may still move by a few MB past the first N events; a leak
# of even 10 KB per event would add 4.5 MB over the 450 events between N and 10N.
GROWTH_BOUND_MB = 4.0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _rss_around(samples: list[tuple[str, int, float]], function: str, lo: int, hi: int) -> float:
    """Median current RSS of the function's worker while lo..hi of its events had settled."""
    window = [rss for fn, count, rss in samples if fn == function and lo <= count <= hi]
    assert window, f"no RSS sample of {function} between {lo} and {hi} events"
    return _median(window)


def test_many_small_uploads_settle_with_flat_memory(tmp_path: Path) -> None:
    uploads = scaled(200, 1000)
    inputs = write_inputs(tmp_path / "inputs", images=uploads // 2, csvs=uploads // 2, seed=3)
    run = run_pipeline([tmp_path / "inputs"], tmp_path / "out", sample_rss=True)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    entries = run.report["inputs"]
    assert len(entries) == len(inputs) == uploads
    assert Counter(entry["outcome"] for entry in entries) == {"results": uploads}
    assert all(entry["attempts"] == 1 for entry in entries)

    memory = {}
    for function in (IMAGE_FUNCTION, CSV_FUNCTION):
        reports = report_lines(tmp_path / "out" / "logs" / f"{function}.log")
        # One warm worker served them all: its s3:TestEvent, then one per upload.
        assert len(reports) == 1 + uploads // 2
        handled = reports[1:]
        total = len(handled)
        # N = 50 of 500 at full scale; bounded, N = 20 of 100 (5N: N = 10 is still warm-up).
        n = total // (10 if FULL_SCALE else 5)
        if run.rss_samples:
            rss_n = _rss_around(run.rss_samples, function, n, n + n // 2)
            rss_end = _rss_around(run.rss_samples, function, total - n // 2, total)
        else:  # no /proc (not Linux): the peak RSS still shows a leak, if more coarsely
            rss_n, rss_end = handled[n - 1]["max_memory_mb"], handled[-1]["max_memory_mb"]
        assert rss_end - rss_n <= GROWTH_BOUND_MB, (function, rss_n, rss_end)
        durations = sorted(r["duration_ms"] for r in handled)
        memory[function] = {
            "invocations": len(handled),
            "n": n,
            "rss_mb_after_n": round(rss_n, 1),
            "rss_mb_at_end": round(rss_end, 1),
            "peak_rss_mb_after_n": handled[n - 1]["max_memory_mb"],
            "peak_rss_mb_at_end": handled[-1]["max_memory_mb"],
            "median_duration_ms": durations[len(durations) // 2],
        }

    publish(
        "load",
        {
            "uploads": uploads,
            "settle_s": round(run.settle_s, 1),
            "events_per_s": round(uploads / run.settle_s, 1),
            "wall_s": round(run.wall_s, 1),
            "workers": memory,
        },
    )
