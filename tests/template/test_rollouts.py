"""Safe rollouts, checked on the translated template: every function is reached through its
`live` alias, CodeDeploy shifts that alias, and alarms on the alias stop and roll back a
bad version before all traffic has moved to it."""

import json
import re
import shlex
import tomllib

import pytest

from stack_model.template import Stack
from tests.cfn import ROOT, resources_of_type, sam_template, translated_template

FUNCTIONS = ("ImageProcessorFunction", "CsvSummarizerFunction")
ALIAS = "live"
# From the end of a minute with errors to CodeDeploy seeing the alarm: Lambda and SQS
# publish a minute's datapoint about a minute later, the alarm evaluates once a minute,
# and CodeDeploy polls the alarms while it waits. A generous bound, not a measurement.
DETECTION_DELAY_S = 180
# Lambda's waits before its two async retries (1 minute, then 2 minutes).
ASYNC_RETRY_WAITS_S = (60, 120)


def _samconfig_parameters(environment: str) -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config[environment]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(overrides))


PROD = _samconfig_parameters("prod")


@pytest.fixture(scope="module")
def cfn():
    return translated_template()


@pytest.fixture(scope="module")
def prod_cfn():
    return translated_template(PROD)


def _partial_traffic_s(deployment_type: str) -> tuple[int, int]:
    """(seconds the first step lasts, seconds before all traffic is on the new version)."""
    if match := re.fullmatch(r"Canary(\d+)Percent(\d+)Minutes", deployment_type):
        minutes = int(match[2])
        return minutes * 60, minutes * 60
    if match := re.fullmatch(r"Linear(\d+)PercentEvery(\d+)Minutes?", deployment_type):
        steps, minutes = 100 // int(match[1]), int(match[2])
        return minutes * 60, (steps - 1) * minutes * 60
    raise AssertionError(f"not a gradual deployment type: {deployment_type}")


def _alarm_configuration(cfn, function, overrides=None):
    """The deployment group's AlarmConfiguration for these parameters (its Fn::If chosen)."""
    config = cfn["Resources"][f"{function}DeploymentGroup"]["Properties"]["AlarmConfiguration"]
    condition, if_true, if_false = config["Fn::If"]
    stack = Stack(cfn, parameter_overrides=overrides or {})
    return if_true if stack.resolve(cfn["Conditions"][condition]) else if_false


def _rollback_alarms(cfn, function):
    config = _alarm_configuration(cfn, function)
    assert config["Enabled"] is True
    return [alarm["Name"]["Ref"] for alarm in config["Alarms"]]


def _detection_s(alarm) -> int:
    """Worst case from the first bad minute to CodeDeploy seeing ALARM."""
    props = alarm["Properties"]
    assert props["Threshold"] == 0 and props["ComparisonOperator"] == "GreaterThanThreshold"
    assert props["DatapointsToAlarm"] <= props["EvaluationPeriods"]
    return props["Period"] * props["EvaluationPeriods"] + DETECTION_DELAY_S


def test_one_alias_for_both_functions():
    sam = sam_template()
    assert sam["Globals"]["Function"]["AutoPublishAlias"] == ALIAS
    for function in FUNCTIONS:
        assert "AutoPublishAlias" not in sam["Resources"][function]["Properties"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_has_an_alias_shifted_by_its_own_deployment_group(cfn, function):
    alias = cfn["Resources"][f"{function}Alias{ALIAS}"]
    assert alias["Type"] == "AWS::Lambda::Alias"
    assert alias["Properties"]["Name"] == ALIAS
    assert alias["Properties"]["FunctionName"] == {"Ref": function}
    assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"] == {
        "ApplicationName": {"Ref": "ServerlessDeploymentApplication"},
        "DeploymentGroupName": {"Ref": f"{function}DeploymentGroup"},
    }
    group = cfn["Resources"][f"{function}DeploymentGroup"]
    assert group["Type"] == "AWS::CodeDeploy::DeploymentGroup"
    props = group["Properties"]
    assert props["ServiceRoleArn"] == {"Fn::GetAtt": ["DeploymentRole", "Arn"]}
    assert props["AutoRollbackConfiguration"]["Enabled"] is True
    assert "DEPLOYMENT_STOP_ON_ALARM" in props["AutoRollbackConfiguration"]["Events"]
    short = function.removesuffix("Function")
    assert _rollback_alarms(cfn, function) == [
        f"{short}ErrorsAlarm",
        f"{short}FailureQueueArrivalsAlarm",
    ]
    assert len(resources_of_type(cfn, "AWS::CodeDeploy::DeploymentGroup")) == len(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_rollback_alarms_can_be_left_out_for_one_roll_forward(cfn, function):
    """sam deploy keeps the last value of a parameter it is not given: each environment
    names RollbackAlarms=Enabled, so the next plain deploy turns the alarms back on."""
    assert sam_template()["Parameters"]["RollbackAlarms"]["Default"] == "Enabled"
    for environment in ("default", "prod"):
        assert _samconfig_parameters(environment)["RollbackAlarms"] == "Enabled"
    assert _alarm_configuration(cfn, function, {"RollbackAlarms": "Disabled"}) == {}


def test_deployment_type_is_all_at_once_by_default_and_gradual_in_prod(cfn, prod_cfn):
    sam = sam_template()
    assert sam["Parameters"]["DeploymentType"]["Default"] == "AllAtOnce"
    assert _samconfig_parameters("default")["DeploymentType"] == "AllAtOnce"
    assert PROD["DeploymentType"] in sam["Parameters"]["DeploymentType"]["AllowedValues"]
    assert PROD["DeploymentType"].startswith(("Canary", "Linear"))
    for template, expected in ((cfn, "AllAtOnce"), (prod_cfn, PROD["DeploymentType"])):
        for function in FUNCTIONS:
            props = template["Resources"][f"{function}DeploymentGroup"]["Properties"]
            assert props["DeploymentConfigName"] == {
                "Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": expected}]
            }


@pytest.mark.parametrize("function", FUNCTIONS)
def test_rollback_alarms_watch_the_alias_not_the_function(cfn, function):
    for name in _rollback_alarms(cfn, function):
        props = cfn["Resources"][name]["Properties"]
        if props["Namespace"] == "AWS/Lambda":
            assert props["Dimensions"] == [
                {"Name": "FunctionName", "Value": {"Ref": function}},
                {"Name": "Resource", "Value": {"Fn::Sub": f"${{{function}}}:{ALIAS}"}},
            ]
        else:  # the on-failure queue that the alias's EventInvokeConfig feeds
            queue = function.replace("Function", "FailureQueue")
            assert props["Dimensions"] == [
                {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
            ]


def test_every_lambda_alarm_watches_the_alias(cfn):
    for name, alarm in resources_of_type(cfn, "AWS::CloudWatch::Alarm").items():
        props = alarm["Properties"]
        if props["Namespace"] == "AWS/Lambda":
            function = props["Dimensions"][0]["Value"]["Ref"]
            assert props["Dimensions"][1] == {
                "Name": "Resource",
                "Value": {"Fn::Sub": f"${{{function}}}:{ALIAS}"},
            }, name


def test_queue_rollback_alarm_counts_arrivals_not_depth(cfn):
    """Depth stays above 0 until the queue is drained: an alarm on it would stay in ALARM
    and stop every later deployment, the fix included. Arrivals return to OK."""
    for function in FUNCTIONS:
        queue_alarm = _rollback_alarms(cfn, function)[1]
        props = cfn["Resources"][queue_alarm]["Properties"]
        assert (props["MetricName"], props["Statistic"]) == ("NumberOfMessagesSent", "Sum")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_error_alarm_fires_inside_the_first_step_of_the_prod_rollout(prod_cfn, function):
    first_step_s, _ = _partial_traffic_s(PROD["DeploymentType"])
    errors = prod_cfn["Resources"][_rollback_alarms(prod_cfn, function)[0]]
    assert errors["Properties"]["MetricName"] == "Errors"
    assert _detection_s(errors) <= first_step_s


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_rollback_alarm_fires_before_any_gradual_type_moves_all_traffic(cfn, function):
    gradual = [
        t
        for t in sam_template()["Parameters"]["DeploymentType"]["AllowedValues"]
        if t != "AllAtOnce"
    ]
    assert gradual
    for name in _rollback_alarms(cfn, function):
        detection = _detection_s(cfn["Resources"][name])
        for deployment_type in gradual:
            _, until_all_traffic_s = _partial_traffic_s(deployment_type)
            assert detection < until_all_traffic_s, (name, deployment_type)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_fast_failure_reaches_the_queue_alarm_inside_the_prod_canary_a_timeout_may_not(
    cfn, function
):
    """Failed events arrive in the queue only after Lambda's two retries. An event that
    fails at once is seen inside the prod canary; one that times out on every attempt is
    not, so the Errors alarm (every failed attempt counts at once) is the one relied on."""
    first_step_s, _ = _partial_traffic_s(PROD["DeploymentType"])
    props = cfn["Resources"][function]["Properties"]
    invoke = cfn["Resources"][f"{function}EventInvokeConfig"]["Properties"]
    assert len(ASYNC_RETRY_WAITS_S) == invoke["MaximumRetryAttempts"]
    queued = _detection_s(cfn["Resources"][_rollback_alarms(cfn, function)[1]])
    attempts = 1 + invoke["MaximumRetryAttempts"]
    assert sum(ASYNC_RETRY_WAITS_S) + queued <= first_step_s
    assert sum(ASYNC_RETRY_WAITS_S) + attempts * props["Timeout"] + queued > first_step_s


@pytest.mark.parametrize("function", FUNCTIONS)
def test_async_retries_and_failures_are_configured_on_the_alias(cfn, function):
    invoke = cfn["Resources"][f"{function}EventInvokeConfig"]
    assert invoke["Properties"]["FunctionName"] == {"Ref": function}
    assert invoke["Properties"]["Qualifier"] == ALIAS
    assert f"{function}Alias{ALIAS}" in invoke["DependsOn"]


def test_nothing_invokes_latest_or_the_bare_function(cfn):
    text = json.dumps(cfn)
    assert "$LATEST" not in text
    for function in FUNCTIONS:
        # The function's own ARN is what an unqualified invoke would use.
        assert json.dumps({"Fn::GetAtt": [function, "Arn"]}) not in text
        assert f"${{{function}.Arn}}" not in text
    bucket = cfn["Resources"]["UploadBucket"]
    targets = [
        c["Function"]
        for c in bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    ]
    assert targets and all(t["Ref"].endswith(f"Alias{ALIAS}") for t in targets)
    for permission in resources_of_type(cfn, "AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"]["Ref"].endswith(f"Alias{ALIAS}")
    # The permissions exist before S3 validates the notification against the alias.
    assert set(bucket["DependsOn"]) == set(resources_of_type(cfn, "AWS::Lambda::Permission"))
    for role in resources_of_type(cfn, "AWS::IAM::Role").values():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                if "lambda:InvokeFunction" in _as_list(statement["Action"]):
                    for resource in _as_list(statement["Resource"]):
                        assert resource["Fn::Sub"].endswith(f":{ALIAS}"), resource


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _provisioned(cfn, function, overrides):
    stack = Stack(cfn, parameter_overrides=overrides)
    alias = cfn["Resources"][f"{function}Alias{ALIAS}"]["Properties"]
    return stack.resolve(alias.get("ProvisionedConcurrencyConfig"))


@pytest.mark.parametrize(
    ("function", "parameter"),
    [
        ("ImageProcessorFunction", "ImageProvisionedConcurrency"),
        ("CsvSummarizerFunction", "CsvProvisionedConcurrency"),
    ],
)
def test_provisioned_concurrency_is_off_by_default_and_on_the_alias_when_set(
    cfn, function, parameter
):
    assert sam_template()["Parameters"][parameter]["Default"] == 0
    assert _provisioned(cfn, function, {}) is None
    assert _provisioned(cfn, function, {parameter: "5"}) == {"ProvisionedConcurrentExecutions": "5"}
    assert "ProvisionedConcurrencyConfig" not in cfn["Resources"][function]["Properties"]


@pytest.mark.parametrize("short", ["Image", "Csv"])
def test_provisioned_and_reserved_concurrency_agree(short):
    """CloudFormation cannot compare two parameters; the bounds match and each environment
    keeps provisioned concurrency within the reserved concurrency it sets."""
    params = sam_template()["Parameters"]
    provisioned, reserved = (
        params[f"{short}ProvisionedConcurrency"],
        params[f"{short}ReservedConcurrency"],
    )
    for bound in ("Type", "Default", "MinValue", "MaxValue"):
        assert provisioned[bound] == reserved[bound]
    for environment in ("default", "prod"):
        values = _samconfig_parameters(environment)
        wanted = int(values.get(f"{short}ProvisionedConcurrency", provisioned["Default"]))
        cap = int(values.get(f"{short}ReservedConcurrency", reserved["Default"]))
        assert cap == 0 or wanted <= cap, environment
