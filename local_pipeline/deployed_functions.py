"""The template's functions in the emulator: a warm sandbox each, fed by its event queue."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_pipeline.dispatch import (
    AsyncInvoker,
    Dispatcher,
    FunctionSandbox,
    Settlement,
    env_overrides,
    sandbox_config,
)
from local_pipeline.emulator import EmulatedResources, Emulator, admitted
from stack_model.template import Stack


def dispatcher(
    stack: Stack,
    resources: EmulatedResources,
    emulator: Emulator,
    env_vars: dict[str, Any],
    on_settled: Callable[[Settlement], None],
    logs_dir: Path | None,
) -> Dispatcher:
    sqs = emulator.client("sqs")
    invokers = {}
    for spec in stack.functions():
        log_file = logs_dir / f"{spec.logical_id}.log" if logs_dir else None
        config = sandbox_config(
            stack, spec, emulator.endpoint_url, env_overrides(env_vars, spec.logical_id), log_file
        )
        failure_queue = resources.failure_queues.get(spec.logical_id)
        invokers[spec.logical_id] = AsyncInvoker(
            stack, FunctionSandbox(spec, config), sqs, failure_queue
        )
    s3 = emulator.client("s3")
    return Dispatcher(
        invokers, resources.event_queues, sqs, on_settled, lambda event: admitted(event, s3)
    )
