"""Command line of the operations tools; every misuse is one line and exit status 2.

python -m operations backfill --prefix images/ [--stack NAME] [--created-before ISO]
                              [--priority N] [--start-when-ready] [--yes] [--region R]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from operations.backfill import start_backfill
from operations.stack import OperationsError, default_stack_name, read_deployment
from stack_model.batch_operations import parse_created_before
from stack_model.template import TemplateError, load_stack

DEFAULT_PRIORITY = 10
MAX_PRIORITY = 2147483647  # CreateJob's bound


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _priority(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_PRIORITY:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..{MAX_PRIORITY}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m operations", description="Operations on the deployed stack (AWS)."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_Parser)
    backfill = commands.add_parser(
        "backfill",
        help="start S3 Batch Operations jobs that run the functions on stored objects",
        description="Create one S3 Batch Operations job per S3 event filter of the template "
        "that the prefix reaches: S3 lists the objects, invokes the function's live alias for "
        "each, retries, and writes a report of the failed tasks.",
    )
    backfill.add_argument("--prefix", required=True, help="key prefix, e.g. images/ ('' = all)")
    backfill.add_argument("--stack", help="stack name (default: samconfig.toml's default)")
    backfill.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    backfill.add_argument(
        "--created-before", metavar="ISO", help="only objects created before this (UTC default)"
    )
    backfill.add_argument(
        "--priority",
        type=_priority,
        default=DEFAULT_PRIORITY,
        help=f"job priority, higher first ({DEFAULT_PRIORITY})",
    )
    backfill.add_argument(
        "--start-when-ready",
        action="store_true",
        help="run as soon as the manifest is ready, without waiting for a confirmation",
    )
    backfill.add_argument("--yes", action="store_true", help="do not ask before creating")
    return parser


def main(
    argv: list[str] | None = None,
    session_factory: Callable[..., Any] = boto3.Session,
    ask: Callable[[str], str] = input,
) -> int:
    args = _parser().parse_args(argv)
    try:
        created_before = parse_created_before(args.created_before) if args.created_before else None
        stack_name = args.stack or default_stack_name()
        session = session_factory(region_name=args.region)
        deployment = read_deployment(session, stack_name)
        return start_backfill(
            load_stack(),
            session,
            deployment,
            args.prefix,
            created_before,
            args.priority,
            confirmation_required=not args.start_when_ready,
            assume_yes=args.yes,
            ask=ask,
        )
    except KeyboardInterrupt:
        print("\ncancelled: no job created", file=sys.stderr)
        return 130
    except (OperationsError, TemplateError, ValueError) as error:
        return _fail(str(error))
    except NoCredentialsError:
        return _fail("no AWS credentials: configure them (aws configure, or AWS_PROFILE)")
    except ClientError as error:
        return _fail(_client_error(error))
    except BotoCoreError as error:
        return _fail(str(error))


def _client_error(error: ClientError) -> str:
    details = error.response.get("Error", {})
    code, message = details.get("Code", "Error"), details.get("Message", "")
    operation = error.operation_name
    if code in ("AccessDenied", "AccessDeniedException"):
        return (
            f"access denied to {operation}: {message} (the caller needs cloudformation:"
            "DescribeStacks, s3:CreateJob and iam:PassRole on the stack's BatchOperationsRole)"
        )
    if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"):
        return f"the AWS credentials were refused ({code}): refresh them and try again"
    return f"{operation} failed: {code}: {message}"


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
