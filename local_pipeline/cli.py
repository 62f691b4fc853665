"""Command line: ``run`` the pipeline on files, ``serve`` it, or ``invoke`` one function.

bin/local-pipeline run PATH... [--out DIR] [--report FILE] [--endpoint-url URL]  (run.py)
bin/local-pipeline serve [--port N]  (serve.py)
bin/local-pipeline invoke FUNCTION -e events/x.json  (invoke.py)
bin/local-pipeline backfill --endpoint-url URL [--prefix P]  (backfill.py)

``bin/local-pipeline`` runs ``python -m local_pipeline`` with the project's venv. This
module reads the template and the common arguments, and stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from local_pipeline import (
    STOP_SIGNALS,
    Interrupted,
    UsageError,
    backfill,
    exit_status,
    invoke,
    run,
    serve,
    stop_reason,
)
from local_pipeline.arguments import parameter_overrides, read_env_vars
from local_pipeline.emulator import EmulatorError
from stack_model.template import TemplateError, load_stack


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _stopping.clear()
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS}
    try:
        stack = load_stack(parameter_overrides=parameter_overrides(args.parameter_overrides))
        env_vars = read_env_vars(args.env_vars)
        return int(args.command(args, stack, env_vars))
    except (UsageError, TemplateError, EmulatorError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        print(f"\n{stop_reason(stop)}", file=sys.stderr)
        return exit_status(stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


_stopping = threading.Event()


def _interrupt(signum: int, _frame: object) -> None:
    """SIGTERM stops a command as Ctrl-C does. Installed whatever we inherited: a script's
    background job starts with SIGINT ignored, and `kill -INT` must still stop it.

    The first one says at once what the stop waits for, so that nobody presses again
    in the silence; a second one stops the waiting."""
    stop = Interrupted(signum)
    if not _stopping.is_set():
        _stopping.set()
        print(
            f"\n{stop.reason}: stopping. Work in flight is abandoned; what settled is on disk "
            "already, and the report is being written. Press Ctrl-C again to quit at once.",
            file=sys.stderr,
            flush=True,
        )
    raise stop


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bin/local-pipeline",
        description="Run the stack's real handlers locally: no Docker, no AWS account.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--endpoint-url", help="use this S3/SQS endpoint instead of starting moto's server"
    )
    common.add_argument(
        "--env-vars",
        type=Path,
        help='JSON of environment overrides, as for sam local invoke: {"FunctionId": {"VAR": '
        '"value"}, "Parameters": {"VAR": "value"}} (Parameters apply to every function)',
    )
    common.add_argument(
        "--parameter-overrides", default="", help="template parameters: 'Key=Value Key2=Value2'"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in (run, serve, invoke, backfill):
        command.add_parser(commands, common)
    return parser
