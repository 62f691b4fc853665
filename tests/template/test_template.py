"""The deployed stack, checked on the CloudFormation that SAM translates template.yaml into."""

import json

import pytest

from tests.cfn import resources_of_type, sam_template, translated_template

ROLES = {
    "ImageProcessorFunction": "ImageProcessorRole",
    "CsvSummarizerFunction": "CsvSummarizerRole",
}
# Every role in the stack and the one service that may assume it (SAM adds none of its own).
TRUSTED_SERVICES = {
    "ImageProcessorRole": "lambda.amazonaws.com",
    "CsvSummarizerRole": "lambda.amazonaws.com",
    "DeploymentRole": "codedeploy.amazonaws.com",
    "BatchOperationsRole": "batchoperations.s3.amazonaws.com",
}
UPLOAD = "arn:${AWS::Partition}:s3:::${AWS::StackName}-upload-${AWS::AccountId}-${AWS::Region}"
PROCESSED = (
    "arn:${AWS::Partition}:s3:::${AWS::StackName}-processed-${AWS::AccountId}-${AWS::Region}"
)


@pytest.fixture(scope="module")
def cfn():
    return translated_template()


def _statements(cfn, role):
    policies = cfn["Resources"][role]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _grants(cfn, role):
    """{(action, resource-as-json)} granted by the role."""
    grants = set()
    for st in _statements(cfn, role):
        assert st["Effect"] == "Allow"
        for action in _as_list(st["Action"]):
            for resource in _as_list(st["Resource"]):
                grants.add((action, json.dumps(resource, sort_keys=True)))
    return grants


def _sub(text):
    return json.dumps({"Fn::Sub": text}, sort_keys=True)


def _getatt(logical_id):
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)


def test_image_role_is_exactly_least_privilege(cfn):
    assert _grants(cfn, "ImageProcessorRole") == {
        ("s3:GetObject", _sub(f"{UPLOAD}/images/*")),
        ("s3:GetObjectVersion", _sub(f"{UPLOAD}/images/*")),
        ("s3:PutObject", _sub(f"{PROCESSED}/*")),
        ("s3:GetObject", _sub(f"{PROCESSED}/*")),
        ("s3:DeleteObject", _sub(f"{PROCESSED}/*")),
        ("s3:ListBucket", _sub(PROCESSED)),
        ("s3:ListBucket", _sub(UPLOAD)),  # a missing upload is a 404, not a 403
        ("sqs:SendMessage", _getatt("ImageProcessorFailureQueue")),
        ("logs:CreateLogStream", _getatt("ImageProcessorLogGroup")),
        ("logs:PutLogEvents", _getatt("ImageProcessorLogGroup")),
        ("xray:PutTraceSegments", '"*"'),
        ("xray:PutTelemetryRecords", '"*"'),
    }


def test_csv_role_is_exactly_least_privilege(cfn):
    assert _grants(cfn, "CsvSummarizerRole") == {
        ("s3:GetObject", _sub(f"{UPLOAD}/csv/*")),
        ("s3:GetObjectVersion", _sub(f"{UPLOAD}/csv/*")),
        ("s3:PutObject", _sub(f"{UPLOAD}/summaries/*")),
        ("s3:GetObject", _sub(f"{UPLOAD}/summaries/*")),
        ("s3:DeleteObject", _sub(f"{UPLOAD}/summaries/*")),
        ("s3:ListBucket", _sub(UPLOAD)),
        ("sqs:SendMessage", _getatt("CsvSummarizerFailureQueue")),
        ("logs:CreateLogStream", _getatt("CsvSummarizerLogGroup")),
        ("logs:PutLogEvents", _getatt("CsvSummarizerLogGroup")),
        ("xray:PutTraceSegments", '"*"'),
        ("xray:PutTelemetryRecords", '"*"'),
    }


LIVE_ALIASES = (
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    "${AWS::StackName}-image-processor:live",
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    "${AWS::StackName}-csv-summarizer:live",
)
ROLLBACK_ALARMS = (
    "ImageProcessorErrorsAlarm",
    "ImageProcessorFailureQueueArrivalsAlarm",
    "CsvSummarizerErrorsAlarm",
    "CsvSummarizerFailureQueueArrivalsAlarm",
)


def test_deployment_role_only_shifts_the_live_aliases_and_reads_the_rollback_alarms(cfn):
    """IAM authorizes GetAlias/UpdateAlias on the function's ARN (resource type `function`),
    provisioned concurrency on the alias's, DescribeAlarms on each alarm's."""
    functions = [alias.removesuffix(":live") for alias in LIVE_ALIASES]
    assert _grants(cfn, "DeploymentRole") == (
        {(a, _sub(f)) for a in ("lambda:GetAlias", "lambda:UpdateAlias") for f in functions}
        | {("lambda:GetProvisionedConcurrencyConfig", _sub(alias)) for alias in LIVE_ALIASES}
        | {("cloudwatch:DescribeAlarms", _getatt(alarm)) for alarm in ROLLBACK_ALARMS}
    )


def test_batch_operations_role_is_exactly_least_privilege(cfn):
    """Invoke the two live aliases; list the upload bucket for the manifest generator;
    manifests and completion reports under batch-operations/ only."""
    assert _grants(cfn, "BatchOperationsRole") == {
        ("lambda:InvokeFunction", _sub(LIVE_ALIASES[0])),
        ("lambda:InvokeFunction", _sub(LIVE_ALIASES[1])),
        ("s3:ListBucket", _sub(UPLOAD)),
        ("s3:GetBucketLocation", _sub(UPLOAD)),
        ("s3:PutObject", _sub(f"{UPLOAD}/batch-operations/manifests/*")),
        ("s3:GetObject", _sub(f"{UPLOAD}/batch-operations/manifests/*")),
        ("s3:GetObjectVersion", _sub(f"{UPLOAD}/batch-operations/manifests/*")),
        ("s3:PutObject", _sub(f"{UPLOAD}/batch-operations/reports/*")),
    }
    outputs = sam_template()["Outputs"]
    assert outputs["BatchOperationsRoleArn"]["Value"] == {
        "Fn::GetAtt": ["BatchOperationsRole", "Arn"]
    }
    assert outputs["UploadBucketName"]["Value"] == {"Ref": "UploadBucket"}
    for function in ROLES:
        translated = cfn["Outputs"][f"{function.removesuffix('Function')}AliasArn"]["Value"]
        assert translated == {"Ref": f"{function}Aliaslive"}


def test_no_wildcard_actions_and_star_resources_only_for_xray(cfn):
    for role in resources_of_type(cfn, "AWS::IAM::Role"):
        for st in _statements(cfn, role):
            for action in _as_list(st["Action"]):
                assert "*" not in action, (role, action)
            if "*" in _as_list(st["Resource"]):
                assert all(a.startswith("xray:") for a in _as_list(st["Action"])), (role, st)


def test_functions_use_their_own_roles_and_no_managed_policies(cfn):
    for function, role in ROLES.items():
        props = cfn["Resources"][function]["Properties"]
        assert props["Role"] == {"Fn::GetAtt": [role, "Arn"]}
    roles = resources_of_type(cfn, "AWS::IAM::Role")
    assert {name: TRUSTED_SERVICES.get(name) for name in roles} == TRUSTED_SERVICES
    for name, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"]
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [
            {
                "Effect": "Allow",
                "Principal": {"Service": TRUSTED_SERVICES[name]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            }
        ]


def test_no_function_writes_where_it_reads_except_the_filtered_summaries_prefix(cfn):
    image = _grants(cfn, "ImageProcessorRole")
    reads = {r for a, r in image if a == "s3:GetObject" and "upload" in r}
    writes = {r for a, r in image if a in ("s3:PutObject", "s3:DeleteObject")}
    assert not any("upload" in w for w in writes) and reads
    csv = _grants(cfn, "CsvSummarizerRole")
    csv_writes = {r for a, r in csv if a in ("s3:PutObject", "s3:DeleteObject")}
    assert csv_writes == {_sub(f"{UPLOAD}/summaries/*")}


def test_notification_filters(cfn):
    configs = cfn["Resources"]["UploadBucket"]["Properties"]["NotificationConfiguration"][
        "LambdaConfigurations"
    ]
    routes = sorted(
        (
            c["Function"]["Ref"],
            c["Event"],
            tuple((r["Name"], r["Value"]) for r in c["Filter"]["S3Key"]["Rules"]),
        )
        for c in configs
    )
    assert routes == [
        (
            "CsvSummarizerFunctionAliaslive",
            "s3:ObjectCreated:*",
            (("prefix", "csv/"), ("suffix", ".csv")),
        ),
        (
            "CsvSummarizerFunctionAliaslive",
            "s3:ObjectCreated:*",
            (("prefix", "csv/"), ("suffix", ".csv.gz")),
        ),
        ("ImageProcessorFunctionAliaslive", "s3:ObjectCreated:*", (("prefix", "images/"),)),
    ]
    assert "NotificationConfiguration" not in cfn["Resources"]["ProcessedBucket"]["Properties"]


def test_outputs_can_never_match_an_input_filter():
    """Summaries share the upload bucket: their prefix must match no notification filter."""
    env = sam_template()["Resources"]["CsvSummarizerFunction"]["Properties"]["Environment"]
    summary_prefix = env["Variables"]["SUMMARY_PREFIX"]
    for prefix in ("images/", "csv/"):
        assert not summary_prefix.startswith(prefix) and not prefix.startswith(summary_prefix)


@pytest.mark.parametrize(
    "key",
    [
        "batch-operations/manifests/job-1/manifest.csv",
        "batch-operations/reports/job-1/results/failed.csv",
        "batch-operations/reports/job-1/manifest.json",
    ],
)
def test_no_notification_watches_the_batch_operations_prefix(cfn, key):
    """Manifests and completion reports (CSV files) are written under batch-operations/."""
    configs = cfn["Resources"]["UploadBucket"]["Properties"]["NotificationConfiguration"][
        "LambdaConfigurations"
    ]
    assert configs
    for config in configs:
        rules = {r["Name"]: r["Value"] for r in config["Filter"]["S3Key"]["Rules"]}
        matches = key.startswith(rules.get("prefix", "")) and key.endswith(rules.get("suffix", ""))
        assert not matches, (key, rules)


def test_lambda_permissions_are_scoped_to_s3_in_this_account(cfn):
    permissions = resources_of_type(cfn, "AWS::Lambda::Permission")
    assert len(permissions) == 3
    for name, permission in permissions.items():
        props = permission["Properties"]
        assert props["Principal"] == "s3.amazonaws.com"
        assert props["Action"] == "lambda:InvokeFunction"
        assert props["SourceAccount"] == {"Ref": "AWS::AccountId"}
        function = name.split("Function")[0] + "Function"
        assert props["FunctionName"] == {"Ref": f"{function}Aliaslive"}, name


@pytest.mark.parametrize(
    ("function", "log_group", "name"),
    [
        ("ImageProcessorFunction", "ImageProcessorLogGroup", "image-processor"),
        ("CsvSummarizerFunction", "CsvSummarizerLogGroup", "csv-summarizer"),
    ],
)
def test_log_groups_are_wired_with_retention(cfn, function, log_group, name):
    props = cfn["Resources"][function]["Properties"]
    assert props["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "WARN",
        "LogGroup": {"Ref": log_group},
    }
    group = cfn["Resources"][log_group]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # Named like Lambda's default so `sam logs` finds it from the function name too.
    assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{name}"}
    assert props["FunctionName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
    assert sam_template()["Parameters"]["LogRetentionDays"]["Default"] == 14


def test_every_alarm_notifies_on_alarm_and_ok(cfn):
    alarms = resources_of_type(cfn, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 14
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["TreatMissingData"] == "notBreaching", name


def test_alarms_cover_each_function():
    sam = sam_template()
    covered = set()
    for alarm in resources_of_type(sam, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        dim = props["Dimensions"][0]
        target = dim["Value"].get("Ref") or dim["Value"]["Fn::GetAtt"][0]
        covered.add((target, props["MetricName"]))
    for fn in ("ImageProcessor", "CsvSummarizer"):
        for metric in (
            "Errors",
            "Throttles",
            "Duration",
            "AsyncEventsDropped",
            "DestinationDeliveryFailures",
        ):
            assert (f"{fn}Function", metric) in covered
        assert (f"{fn}FailureQueue", "ApproximateNumberOfMessagesVisible") in covered
        assert (f"{fn}FailureQueue", "NumberOfMessagesSent") in covered


def test_duration_alarm_is_p95_at_80_percent_of_timeout():
    sam = sam_template()["Resources"]
    for fn in ("ImageProcessor", "CsvSummarizer"):
        alarm = sam[f"{fn}DurationAlarm"]["Properties"]
        timeout = sam[f"{fn}Function"]["Properties"]["Timeout"]
        assert alarm["ExtendedStatistic"] == "p95"
        assert alarm["Threshold"] == timeout * 1000 * 0.8


def test_alarm_email_is_optional():
    sam = sam_template()
    sub = sam["Resources"]["AlarmEmailSubscription"]
    assert sub["Condition"] == "HasAlarmEmail"
    assert sam["Parameters"]["AlarmEmail"]["Default"] == ""


@pytest.mark.parametrize(
    ("function", "queue"),
    [
        ("ImageProcessorFunction", "ImageProcessorFailureQueue"),
        ("CsvSummarizerFunction", "CsvSummarizerFailureQueue"),
    ],
)
def test_failed_events_go_to_an_encrypted_queue(cfn, function, queue):
    config = cfn["Resources"][f"{function}EventInvokeConfig"]["Properties"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == 3600
    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}
    }
    props = cfn["Resources"][queue]["Properties"]
    assert props["KmsMasterKeyId"] == "alias/aws/sqs"
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600


@pytest.mark.parametrize("bucket", ["UploadBucket", "ProcessedBucket"])
def test_bucket_hardening(cfn, bucket):
    resource = cfn["Resources"][bucket]
    props = resource["Properties"]
    assert resource["DeletionPolicy"] == "Retain"
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True
    )
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7
    }
    assert "NoncurrentVersionExpiration" in rules["expire-noncurrent-versions"]
    policies = [
        p
        for p in resources_of_type(cfn, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    (policy,) = policies
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_names_are_built_once_as_strings():
    """Roles name buckets by string, never by !Ref/!GetAtt (that closes a dependency cycle)."""
    sam = sam_template()
    for bucket, expected in (("UploadBucket", "upload"), ("ProcessedBucket", "processed")):
        name = sam["Resources"][bucket]["Properties"]["BucketName"]
        assert name == {
            "Fn::Sub": f"${{AWS::StackName}}-{expected}-${{AWS::AccountId}}-${{AWS::Region}}"
        }
    roles = json.dumps([sam["Resources"][r] for r in ROLES.values()])
    assert "UploadBucket" not in roles and "ProcessedBucket" not in roles


def test_functions_share_globals_and_run_on_arm64(cfn):
    for function in ROLES:
        props = cfn["Resources"][function]["Properties"]
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["RecursiveLoop"] == "Terminate"


def test_layers_are_built_for_arm64():
    sam = sam_template()["Resources"]
    layers = {k: v for k, v in sam.items() if v["Type"] == "AWS::Serverless::LayerVersion"}
    assert set(layers) == {"RuntimeLayer", "PillowLayer", "PyarrowLayer"}
    for layer in layers.values():
        assert layer["Metadata"]["BuildArchitecture"] == "arm64"
        assert layer["Metadata"]["BuildMethod"] in ("python3.13", "makefile")
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]


def test_limit_parameters_have_descriptions_and_bounds():
    params = sam_template()["Parameters"]
    for name in (
        "MaxImagePixels",
        "MaxImageBytes",
        "ThumbnailSize",
        "MaxCsvBytes",
        "CsvMaxFieldBytes",
        "ImageMemorySize",
        "CsvMemorySize",
    ):
        assert params[name]["Description"]
        assert params[name]["MinValue"] <= params[name]["Default"] <= params[name]["MaxValue"]
    assert params["MaxImagePixels"]["Default"] == 250_000_000


def test_every_checkov_skip_has_a_reason():
    for name, resource in sam_template()["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_") and len(skip["comment"]) > 20, name


def test_dashboard_is_valid_json_with_the_pipeline_metrics():
    body = sam_template()["Resources"]["PipelineDashboard"]["Properties"]["DashboardBody"]
    text, _variables = body["Fn::Sub"]
    dashboard = json.loads(text)
    titles = [w["properties"]["title"] for w in dashboard["widgets"]]
    assert titles == [
        "Invocations and errors (live alias)",
        "Duration p50 / p95 (ms, live alias)",
        "On-failure queue depth and dropped events",
        "Pipeline outcomes",
        "Rollback alarms (a deployment stops while any is in ALARM)",
    ]
    lambda_rows = [
        row
        for widget in dashboard["widgets"]
        for row in widget["properties"].get("metrics", [])
        if row[0] == "AWS/Lambda"
    ]
    assert lambda_rows and all(row[4:6] == ["Resource", f"{row[3]}:live"] for row in lambda_rows)


def test_outputs():
    outputs = sam_template()["Outputs"]
    assert set(outputs) == {
        "UploadBucketName",
        "ProcessedBucketName",
        "ImageProcessorFunctionName",
        "CsvSummarizerFunctionName",
        "ImageProcessorAliasArn",
        "CsvSummarizerAliasArn",
        "BatchOperationsRoleArn",
        "ImageProcessorFailureQueueUrl",
        "CsvSummarizerFailureQueueUrl",
        "AlarmTopicArn",
        "DashboardUrl",
    }


def test_every_output_says_what_it_is():
    for name, output in sam_template()["Outputs"].items():
        assert len(output.get("Description", "")) > 20, name


def test_every_parameter_is_in_exactly_one_console_group():
    template = sam_template()
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])
    assert all(group["Label"]["default"] for group in groups)


def test_no_vestigial_metadata():
    # The stack is deployed with sam deploy, not published to the Serverless Application
    # Repository: its metadata named an application that does not exist.
    assert set(sam_template()["Metadata"]) == {"AWS::CloudFormation::Interface"}


def _repeated(globals_: dict, own: dict, path: str = "") -> list[str]:
    """Paths set both in Globals and in a function: maps are merged by SAM key by key, so
    only a leaf set in both repeats (or overrides) Globals."""
    found = []
    for key in set(globals_) & set(own):
        if isinstance(globals_[key], dict) and isinstance(own[key], dict):
            found += _repeated(globals_[key], own[key], f"{path}{key}.")
        else:
            found.append(f"{path}{key}")
    return sorted(found)


def test_functions_repeat_nothing_of_globals():
    template = sam_template()
    globals_ = template["Globals"]["Function"]
    for name, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        assert _repeated(globals_, resource["Properties"]) == [], name


@pytest.mark.parametrize("function", ["ImageProcessorFunction", "CsvSummarizerFunction"])
def test_sam_merges_globals_logging_config_into_each_function(cfn, function):
    """Each function names its own log group only; SAM adds Globals' format and levels,
    so the deployed LoggingConfig is what each function used to repeat."""
    own = sam_template()["Resources"][function]["Properties"]["LoggingConfig"]
    assert set(own) == {"LogGroup"}
    merged = cfn["Resources"][function]["Properties"]["LoggingConfig"]
    assert merged == {**sam_template()["Globals"]["Function"]["LoggingConfig"], **own}


def _cfn_lint(template: dict) -> list[str]:
    """cfn-lint's errors and warnings (informational I-rules are advice, not defects).

    DeploymentType is read by SAM itself: the transform writes its value into the
    deployment groups, so the translated template no longer refers to the parameter.
    """
    from cfnlint.api import lint_all

    matches = lint_all(json.dumps(template))
    return [
        str(m)
        for m in matches
        if not m.rule.id.startswith("I")
        and not (m.rule.id == "W2001" and "DeploymentType" in m.message)
    ]


def test_cfn_lint_passes_on_the_translated_template(cfn):
    """cfn-lint skips cycle checks inside AWS::Serverless::*; the translation exposes them."""
    assert _cfn_lint(cfn) == []


def test_the_translated_lint_catches_the_bucket_policy_cycle(cfn):
    """The trap the string bucket names avoid: a role that !GetAtt's the bucket is a cycle."""
    role = cfn["Resources"]["ImageProcessorRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    role["Statement"][0]["Resource"] = {"Fn::Sub": "${UploadBucket.Arn}/images/*"}
    findings = _cfn_lint(cfn)
    assert any("E3004" in f or "ircular" in f for f in findings), findings


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        # A role that names the alias by !Ref: alias -> deployment group -> role -> alias.
        ("DeploymentRole", ("Policies", 0, "PolicyDocument", "Statement", 0, "Resource")),
        # An alarm on the alias by !Ref: alias -> deployment group -> alarm -> alias.
        ("ImageProcessorErrorsAlarm", ("Dimensions", 1, "Value")),
    ],
)
def test_the_translated_lint_catches_an_alias_cycle(cfn, resource, path):
    """Why the deployment role and the alarms name the alias by a string, not by !Ref."""
    target = cfn["Resources"][resource]["Properties"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = {"Ref": "ImageProcessorFunctionAliaslive"}
    findings = _cfn_lint(cfn)
    assert any("E3004" in f or "ircular" in f for f in findings), findings
