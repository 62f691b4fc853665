"""`python -m operations backfill`: the exact AWS requests (botocore Stubber), the prompt,
and one line for every misuse. moto implements no s3control CreateJob, hence the Stubber."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from operations.backfill import request_token
from operations.cli import main
from operations.stack import default_stack_name

ACCOUNT = "123456789012"
STACK = "s3-event-pipeline"
BUCKET = f"{STACK}-upload-{ACCOUNT}-us-east-1"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{STACK}-BatchOperationsRole-ABC"
IMAGE_ALIAS = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{STACK}-image-processor:live"
CSV_ALIAS = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{STACK}-csv-summarizer:live"
OUTPUTS = {
    "UploadBucketName": BUCKET,
    "BatchOperationsRoleArn": ROLE,
    "ImageProcessorAliasArn": IMAGE_ALIAS,
    "CsvSummarizerAliasArn": CSV_ALIAS,
}


class Session:
    """Stands in for boto3.Session: stubbed clients, each checked for unused responses."""

    def __init__(self, region_name: str | None = "us-east-1") -> None:
        self.region_name = region_name
        self.clients = {
            name: boto3.client(name, region_name="us-east-1")
            for name in ("sts", "cloudformation", "s3control")
        }
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def __call__(self, region_name: str | None = None) -> Session:
        if region_name:
            self.region_name = region_name
        return self

    def client(self, service: str, **_: Any) -> Any:
        return self.clients[service]

    def expect_stack(self, outputs: dict[str, str] = OUTPUTS, stack: str = STACK) -> None:
        self.stubs["sts"].add_response(
            "get_caller_identity",
            {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ops"},
            {},
        )
        self.stubs["cloudformation"].add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": stack,
                        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                    }
                ]
            },
            {"StackName": stack},
        )

    def expect_job(self, request: dict[str, Any], job_id: str) -> None:
        self.stubs["s3control"].add_response("create_job", {"JobId": job_id}, request)

    def assert_all_used(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def _request(
    prefix: str,
    suffix: str,
    function_arn: str,
    asked: str,
    function: str,
    created_before: datetime | None = None,
    confirmation_required: bool = True,
    priority: int = 10,
) -> dict[str, Any]:
    """The create_job parameters, written out in full."""
    key_names = {"MatchAnyPrefix": [prefix]}
    if suffix:
        key_names["MatchAnySuffix"] = [suffix]
    job_filter: dict[str, Any] = {"KeyNameConstraint": key_names}
    if created_before:
        job_filter["CreatedBefore"] = created_before
    request = {
        "AccountId": ACCOUNT,
        "ConfirmationRequired": confirmation_required,
        "Operation": {
            "LambdaInvoke": {
                "FunctionArn": function_arn,
                "InvocationSchemaVersion": "2.0",
                "UserArguments": {"keyPrefix": asked},
            }
        },
        "Report": {
            "Bucket": BUCKET_ARN,
            "Format": "Report_CSV_20180820",
            "Enabled": True,
            "Prefix": "batch-operations/reports",
            "ReportScope": "FailedTasksOnly",
            "ExpectedBucketOwner": ACCOUNT,
        },
        "Description": f"Backfill of stack {STACK}: s3://{BUCKET}/{prefix}*{suffix} -> {function}",
        "Priority": priority,
        "RoleArn": ROLE,
        "ManifestGenerator": {
            "S3JobManifestGenerator": {
                "ExpectedBucketOwner": ACCOUNT,
                "SourceBucket": BUCKET_ARN,
                "ManifestOutputLocation": {
                    "ExpectedManifestBucketOwner": ACCOUNT,
                    "Bucket": BUCKET_ARN,
                    "ManifestPrefix": "batch-operations/manifests",
                    "ManifestEncryption": {"SSES3": {}},
                    "ManifestFormat": "S3InventoryReport_CSV_20211130",
                },
                "EnableManifestOutput": True,
                "Filter": job_filter,
            }
        },
    }
    request["ClientRequestToken"] = ANY  # one per job and run: see the token tests below
    return request


def _never_asked(prompt: str) -> str:
    raise AssertionError(f"asked {prompt!r} despite --yes")


def test_the_default_stack_is_samconfigs() -> None:
    assert default_stack_name() == STACK


def test_images_prefix_creates_one_job_with_the_exact_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = Session()
    session.expect_stack()
    created_before = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    request = _request(
        "images/", "", IMAGE_ALIAS, "images/", "ImageProcessorFunction", created_before, priority=42
    )
    session.expect_job(request, "job-1111")
    argv = ["backfill", "--prefix", "images/", "--created-before", "2026-01-31T12:00:00Z"]
    assert main([*argv, "--priority", "42", "--yes"], session, _never_asked) == 0
    session.assert_all_used()
    out = capsys.readouterr().out
    where = f"--account-id {ACCOUNT} --job-id job-1111 --region us-east-1"
    assert out == (
        f"S3 Batch Operations backfill in account {ACCOUNT} (us-east-1), stack {STACK}:\n"
        f"  s3://{BUCKET}/images/* -> ImageProcessorFunction ({IMAGE_ALIAS})\n"
        "  only objects created before 2026-01-31T12:00:00+00:00\n"
        f"  manifest: s3://{BUCKET}/batch-operations/manifests/   "
        f"report of failed tasks: s3://{BUCKET}/batch-operations/reports/\n"
        "Objects whose outputs already record them are skipped by the functions (duplicates).\n"
        "Each job then waits, suspended, for you to confirm it (printed below).\n"
        "created job job-1111: images/* -> ImageProcessorFunction\n"
        f"  follow:  aws s3control describe-job {where}\n"
        "  once it is Suspended (manifest ready, ProgressSummary.TotalNumberOfTasks counted), "
        "run it:\n"
        f"           aws s3control update-job-status {where} --requested-job-status Ready\n"
        f"  report:  s3://{BUCKET}/batch-operations/reports/job-job-1111/manifest.json "
        "(when it ends)\n"
    )


def test_the_csv_prefix_creates_one_job_per_suffix_filter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = Session()
    session.expect_stack()
    csv_job = _request("csv/", ".csv", CSV_ALIAS, "csv/", "CsvSummarizerFunction")
    gz_job = _request("csv/", ".csv.gz", CSV_ALIAS, "csv/", "CsvSummarizerFunction")
    for request in (csv_job, gz_job):
        request["ConfirmationRequired"] = False
    session.expect_job(csv_job, "job-csv")
    session.expect_job(gz_job, "job-gz")
    argv = ["backfill", "--prefix", "csv/", "--start-when-ready", "--yes"]
    assert main(argv, session, _never_asked) == 0
    session.assert_all_used()
    out = capsys.readouterr().out
    assert "created job job-csv: csv/*.csv -> CsvSummarizerFunction" in out
    assert "created job job-gz: csv/*.csv.gz -> CsvSummarizerFunction" in out
    assert "update-job-status" not in out and "suspended" not in out


def test_a_token_is_one_job_of_one_run() -> None:
    """A retried call (same job, same run) reuses its token; another job of the run, or the
    same job asked again in a later run (after a failed job, say), gets its own."""
    job = _request("csv/", ".csv", CSV_ALIAS, "csv/", "CsvSummarizerFunction")
    other = _request("csv/", ".csv.gz", CSV_ALIAS, "csv/", "CsvSummarizerFunction")
    for request in (job, other):
        del request["ClientRequestToken"]
    token = request_token(job, "run-1")
    assert token == request_token(job, "run-1")
    assert len({token, request_token(other, "run-1"), request_token(job, "run-2")}) == 3
    assert len(token) == 64  # CreateJob's maximum


@pytest.mark.parametrize("answer", ["y", "yes", " Y "])
def test_yes_at_the_prompt_creates_the_job(answer: str) -> None:
    session = Session()
    session.expect_stack()
    request = _request("images/", "", IMAGE_ALIAS, "images/", "ImageProcessorFunction")
    session.expect_job(request, "job-2")
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return answer

    assert main(["backfill", "--prefix", "images/"], session, ask) == 0
    assert prompts == ["Create 1 job(s)? [y/N] "]
    session.assert_all_used()


def _eof(prompt: str) -> str:
    raise EOFError


@pytest.mark.parametrize("ask", [lambda _: "n", lambda _: "", _eof], ids=["no", "empty", "eof"])
def test_anything_but_yes_creates_nothing(ask: Any, capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()
    session.expect_stack()
    assert main(["backfill", "--prefix", "images/"], session, ask) == 1
    session.assert_all_used()  # and no create_job: none was expected
    assert capsys.readouterr().out.endswith("no job created (give --yes to skip the question)\n")


def _interrupt(prompt: str) -> str:
    raise KeyboardInterrupt


def _misuse(capsys: pytest.CaptureFixture[str], argv: list[str], session: Any) -> str:
    """Run a misuse: exit status 2, nothing on stdout but the plan, one line on stderr."""
    assert main(["backfill", *argv], session, _never_asked) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def test_ctrl_c_at_the_prompt_creates_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()
    session.expect_stack()
    assert main(["backfill", "--prefix", "images/"], session, _interrupt) == 130
    assert capsys.readouterr().err == "\ncancelled: no job created\n"
    session.assert_all_used()


def test_no_credentials_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    err = _misuse(capsys, ["--prefix", "images/", "--yes"], boto3.Session)
    assert err == "error: no AWS credentials: configure them (aws configure, or AWS_PROFILE)"


def test_a_stack_that_does_not_exist_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()
    session.stubs["sts"].add_response(
        "get_caller_identity",
        {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ops"},
        {},
    )
    session.stubs["cloudformation"].add_client_error(
        "describe_stacks",
        "ValidationError",
        "Stack with id nope does not exist",
        expected_params={"StackName": "nope"},
    )
    err = _misuse(capsys, ["--prefix", "images/", "--stack", "nope"], session)
    assert err == (
        f"error: stack nope not found in account {ACCOUNT}, us-east-1: "
        "give --stack NAME (and --region), or deploy it (make deploy)"
    )


def test_a_missing_output_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()
    session.expect_stack({k: v for k, v in OUTPUTS.items() if k != "BatchOperationsRoleArn"})
    err = _misuse(capsys, ["--prefix", "images/", "--yes"], session)
    assert err == (
        f"error: stack {STACK} has no output BatchOperationsRoleArn: deploy the current "
        "template.yaml first (make deploy)"
    )


def test_a_bad_date_is_one_line_before_any_aws_call(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()  # nothing expected: any call would fail the stub
    err = _misuse(capsys, ["--prefix", "images/", "--created-before", "31/01/2026"], session)
    assert err == (
        "error: --created-before '31/01/2026': not an ISO 8601 date or time "
        "(e.g. 2026-01-31 or 2026-01-31T12:00:00Z)"
    )


def test_a_prefix_no_function_listens_to_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()
    session.expect_stack()
    err = _misuse(capsys, ["--prefix", "summaries/", "--yes"], session)
    assert err == (
        "error: --prefix 'summaries/': no S3 event filter of template.yaml matches a key under "
        "it (the functions listen to images/*, csv/*.csv, csv/*.csv.gz)"
    )


def test_access_denied_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()
    session.expect_stack()
    session.stubs["s3control"].add_client_error(
        "create_job", "AccessDenied", "Access Denied", http_status_code=403
    )
    err = _misuse(capsys, ["--prefix", "images/", "--yes"], session)
    assert err == (
        "error: access denied to CreateJob: Access Denied (the caller needs "
        "cloudformation:DescribeStacks, s3:CreateJob and iam:PassRole on the stack's "
        "BatchOperationsRole)"
    )


def test_no_region_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    err = _misuse(capsys, ["--prefix", "images/"], Session(region_name=None))
    assert err == "error: no AWS region: set AWS_REGION or give --region"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--prefix", "images/", "--priority", "-1"],
            "error: argument --priority: -1 is outside 0..2147483647 "
            "(see python -m operations backfill --help)",
        ),
        (
            [],
            "error: the following arguments are required: --prefix "
            "(see python -m operations backfill --help)",
        ),
    ],
)
def test_a_bad_command_line_is_one_line(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backfill", *argv], Session(), _never_asked)
    assert exited.value.code == 2
    assert capsys.readouterr().err == line + "\n"


def test_ctrl_c_between_two_jobs_says_which_were_created(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = Session()
    session.expect_stack()
    session.expect_job(
        _request("csv/", ".csv", CSV_ALIAS, "csv/", "CsvSummarizerFunction"), "job-1"
    )
    calls: list[str] = []

    def interrupt_the_second(**_: Any) -> None:
        calls.append("CreateJob")
        if len(calls) == 2:
            raise KeyboardInterrupt

    session.clients["s3control"].meta.events.register_first(
        "provide-client-params.s3-control.CreateJob", interrupt_the_second
    )
    assert main(["backfill", "--prefix", "csv/", "--yes"], session, _never_asked) == 130
    session.assert_all_used()
    out = capsys.readouterr().out
    assert "created job job-1: csv/*.csv -> CsvSummarizerFunction" in out
    assert out.endswith("cancelled after 1 of 2 jobs were created (above)\n")
