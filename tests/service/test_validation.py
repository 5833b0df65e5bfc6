"""Model-driven validation and serialisation: one test per rule class, on realistic requests."""

from __future__ import annotations

import copy
import enum
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from minimal_request import MINIMAL

from trainplane.errors import ValidationError
from trainplane.service.validation import known_operations, serialize_output, validate_input


def request(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(MINIMAL)
    body.update(changes)
    return body


def error_of(operation: str, params: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_input(operation, params, **kwargs)
    return caught.value.message


def test_valid_request_is_returned_as_an_equal_copy() -> None:
    body = request()
    result = validate_input("CreateTrainingJob", body)
    assert result == MINIMAL
    assert result is not body
    assert result["InputDataConfig"] is not body["InputDataConfig"]


def test_pattern_violation_uses_aws_wording() -> None:
    message = error_of("CreateTrainingJob", request(TrainingJobName="abc_"))
    assert message == (
        "1 validation error detected: Value 'abc_' at 'trainingJobName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
    )


def test_pattern_is_a_full_match_not_a_search() -> None:
    # "good-name" alone matches; a trailing "-" must fail even though a prefix matches.
    assert "trainingJobName" in error_of("CreateTrainingJob", request(TrainingJobName="good-name-"))


def test_max_length_of_string() -> None:
    message = error_of("CreateTrainingJob", request(TrainingJobName="a" * 64))
    assert (
        "at 'trainingJobName' failed to satisfy constraint: Member must have length less than or equal to 63"
        in message
    )


def test_min_length_of_string() -> None:
    message = error_of("DescribeTrainingJob", {"TrainingJobName": ""})
    assert (
        "Value '' at 'trainingJobName' failed to satisfy constraint: Member must have length greater than or "
        in message
    )
    assert message.startswith("2 validation errors detected: ")  # the empty name also fails the pattern


def test_numeric_range_both_ends() -> None:
    low = error_of("ListTrainingJobs", {"MaxResults": 0})
    high = error_of("ListTrainingJobs", {"MaxResults": 101})
    assert low == (
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    assert high.endswith("Member must have value less than or equal to 100")


def test_list_size_limit() -> None:
    channels = [
        {
            "ChannelName": f"c{i}",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/p"}},
        }
        for i in range(21)
    ]
    message = error_of("CreateTrainingJob", request(InputDataConfig=channels))
    assert (
        "at 'inputDataConfig' failed to satisfy constraint: Member must have length less than or equal to 20"
        in message
    )


def test_enum_violation_lists_the_value_set() -> None:
    body = request()
    body["AlgorithmSpecification"]["TrainingInputMode"] = "Stream"
    message = error_of("CreateTrainingJob", body)
    assert message == (
        "1 validation error detected: Value 'Stream' at 'algorithmSpecification.trainingInputMode' failed to "
        "satisfy constraint: Member must satisfy enum value set: [Pipe, File, FastFile]"
    )


def test_huge_enum_set_is_cut_and_message_stays_short() -> None:
    body = request()
    body["ResourceConfig"]["InstanceType"] = "ml.imaginary.huge"
    message = error_of("CreateTrainingJob", body)
    assert "Member must satisfy enum value set: [ml." in message
    assert message.endswith(", ...]")
    assert len(message) < 1000


def test_wrong_type_names_the_path() -> None:
    body = request()
    body["ResourceConfig"]["InstanceCount"] = "abc"
    message = error_of("CreateTrainingJob", body)
    assert message == (
        "1 validation error detected: Value 'abc' at 'resourceConfig.instanceCount' failed to satisfy "
        "constraint: Member must be an integer"
    )


@pytest.mark.parametrize(
    ("member", "value", "text"),
    [
        ("EnableManagedSpotTraining", "yes", "Member must be a boolean"),
        ("TrainingJobName", 5, "Member must be a string"),
        ("HyperParameters", ["eta"], "Member must be a map"),
        ("InputDataConfig", {"ChannelName": "x"}, "Member must be a list"),
        ("ResourceConfig", "ml.m5.large", "Member must be a structure"),
    ],
)
def test_each_aggregate_and_scalar_type_is_checked(member: str, value: Any, text: str) -> None:
    assert error_of("CreateTrainingJob", request(**{member: value})).endswith(text)


def test_integral_float_becomes_int_but_fractions_and_booleans_are_rejected() -> None:
    body = request()
    body["ResourceConfig"]["InstanceCount"] = 2.0
    result = validate_input("CreateTrainingJob", body)
    assert type(result["ResourceConfig"]["InstanceCount"]) is int
    assert result["ResourceConfig"]["InstanceCount"] == 2
    for wrong in (2.5, True):
        body["ResourceConfig"]["InstanceCount"] = wrong
        assert error_of("CreateTrainingJob", body).endswith("Member must be an integer")


def test_integer_must_fit_32_bits() -> None:
    body = request()
    body["ResourceConfig"]["InstanceCount"] = 2**31
    assert "Member must be an integer between -2147483648 and 2147483647" in error_of(
        "CreateTrainingJob", body
    )


def test_required_member_reports_null() -> None:
    body = request()
    del body["RoleArn"]
    assert error_of("CreateTrainingJob", body) == (
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_json_null_counts_as_absent() -> None:
    assert "at 'roleArn'" in error_of("CreateTrainingJob", request(RoleArn=None))
    result = validate_input("CreateTrainingJob", request(VpcConfig=None))
    assert "VpcConfig" not in result


def test_unknown_member_is_rejected_with_its_path() -> None:
    body = request()
    body["ResourceConfig"]["InstanceCnt"] = 2
    message = error_of("CreateTrainingJob", body)
    assert message == (
        "1 validation error detected: Value '2' at 'resourceConfig.instanceCnt' failed to satisfy "
        "constraint: Unknown parameter 'InstanceCnt'; ResourceConfig has no such member"
    )


def test_list_element_path_is_one_based_member() -> None:
    second = copy.deepcopy(MINIMAL["InputDataConfig"][0])
    second["ChannelName"] = "bad channel"
    body = request(InputDataConfig=[MINIMAL["InputDataConfig"][0], second])
    message = error_of("CreateTrainingJob", body)
    assert (
        "Value 'bad channel' at 'inputDataConfig.2.member.channelName' failed to satisfy constraint: "
        in message
    )


def test_null_list_element_is_reported() -> None:
    body = request(InputDataConfig=[None])
    assert (
        "Value null at 'inputDataConfig.1.member' failed to satisfy constraint: Member must not be null"
        in (error_of("CreateTrainingJob", body))
    )


def test_scalar_list_element_path() -> None:
    body = request()
    body["AlgorithmSpecification"]["ContainerEntrypoint"] = ["python", "x" * 257]
    message = error_of("CreateTrainingJob", body)
    assert (
        "at 'algorithmSpecification.containerEntrypoint.2.member' failed to satisfy constraint: " in message
    )
    assert message.endswith("Member must have length less than or equal to 256")


def test_map_value_violation_uses_map_value_form() -> None:
    body = request(HyperParameters={"eta": "0.2", "blob": "x" * 2501})
    message = error_of("CreateTrainingJob", body)
    assert message.startswith("1 validation error detected: Value '{blob=xxx")
    assert message.endswith(
        "' at 'hyperParameters' failed to satisfy constraint: "
        "Map value must satisfy constraint: [Member must have length less than or equal to 2500]"
    )


def test_map_key_violation_uses_map_keys_form() -> None:
    message = error_of("CreateTrainingJob", request(Environment={"1BAD": "v"}))
    assert message == (
        "1 validation error detected: Value '{1BAD=v}' at 'environment' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
        "^[a-zA-Z_][a-zA-Z0-9_]*]"
    )


def test_map_size_limit() -> None:
    hyperparameters = {f"p{i}": "1" for i in range(101)}
    message = error_of("CreateTrainingJob", request(HyperParameters=hyperparameters))
    assert (
        "at 'hyperParameters' failed to satisfy constraint: Member must have length less than or equal to 100"
        in message
    )


def test_unicode_property_pattern_compiles_and_matches() -> None:
    ok = request(Tags=[{"Key": "équipe", "Value": "données 1"}])
    assert validate_input("CreateTrainingJob", ok)["Tags"] == [{"Key": "équipe", "Value": "données 1"}]
    message = error_of("CreateTrainingJob", request(Tags=[{"Key": "team", "Value": "a;b"}]))
    assert (
        "at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression"
        in message
    )


def test_all_errors_are_collected_in_order() -> None:
    body = request(TrainingJobName="abc_")
    del body["RoleArn"]
    body["ResourceConfig"]["InstanceCount"] = "x"
    message = error_of("CreateTrainingJob", body)
    assert message.startswith("3 validation errors detected: Value 'abc_' at 'trainingJobName'")
    assert "; Value 'x' at 'resourceConfig.instanceCount'" in message
    assert message.endswith("; Value null at 'roleArn' failed to satisfy constraint: Member must not be null")


def test_many_errors_are_summarised_below_1000_characters() -> None:
    tags = [{"Key": "k", "Value": "bad;" * 20} for _ in range(40)]
    message = error_of("CreateTrainingJob", request(Tags=tags))
    assert message.startswith("40 validation errors detected: ")
    assert len(message) < 1000
    assert message.endswith("more)")


def test_timestamp_from_epoch_number() -> None:
    result = validate_input("ListTrainingJobs", {"CreationTimeAfter": 1700000000.5})
    assert result["CreationTimeAfter"] == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)


def test_timestamp_from_iso_string_is_converted_to_utc() -> None:
    result = validate_input("ListTrainingJobs", {"CreationTimeBefore": "2024-01-01T02:00:00+02:00"})
    assert result["CreationTimeBefore"] == datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    assert result["CreationTimeBefore"].utcoffset() == timedelta(0)


def test_timestamp_from_naive_and_aware_datetime() -> None:
    naive = validate_input("ListTrainingJobs", {"CreationTimeAfter": datetime(2024, 5, 1, 12)})
    assert naive["CreationTimeAfter"] == datetime(2024, 5, 1, 12, tzinfo=UTC)
    aware = datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=-5)))
    assert validate_input("ListTrainingJobs", {"CreationTimeAfter": aware})["CreationTimeAfter"].hour == 17


def test_bad_timestamp_is_rejected() -> None:
    message = error_of("ListTrainingJobs", {"CreationTimeAfter": "last tuesday"})
    assert message == (
        "1 validation error detected: Value 'last tuesday' at 'creationTimeAfter' failed to satisfy "
        "constraint: Member must be a timestamp (epoch seconds or ISO-8601)"
    )


def test_file_uri_is_accepted_where_s3_uri_is() -> None:
    # trainplane extension: file:// in S3Uri shapes (the model's pattern alone would reject it).
    body = request(CheckpointConfig={"S3Uri": "file:///srv/checkpoints/job"})
    body["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "file:///data/train/"
    body["OutputDataConfig"]["S3OutputPath"] = "file:///srv/output"
    assert (
        validate_input("CreateTrainingJob", body)["CheckpointConfig"]["S3Uri"]
        == "file:///srv/checkpoints/job"
    )


def test_other_schemes_still_fail_the_s3_pattern() -> None:
    body = request()
    body["OutputDataConfig"]["S3OutputPath"] = "ftp://bucket/output"
    message = error_of("CreateTrainingJob", body)
    assert message == (
        "1 validation error detected: Value 'ftp://bucket/output' at 'outputDataConfig.s3OutputPath' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)"
    )


def test_file_exception_does_not_leak_into_other_shapes() -> None:
    # RoleArn is not an S3Uri shape: file:// must fail its pattern.
    assert "at 'roleArn'" in error_of("CreateTrainingJob", request(RoleArn="file:///etc/role-arn-file"))


def test_out_of_scope_members_are_accepted() -> None:
    body = request(
        ExperimentConfig={"ExperimentName": "exp-1", "TrialName": "trial-1"},
        DebugHookConfig={"S3OutputPath": "s3://bucket/debug"},
    )
    assert validate_input("CreateTrainingJob", body)["ExperimentConfig"]["TrialName"] == "trial-1"


def test_unknown_operation_is_a_validation_error() -> None:
    assert "NotAnOperation" in error_of("NotAnOperation", {})


def test_logs_service_model_is_supported() -> None:
    params = {"logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamNamePrefix": "job/"}
    assert validate_input("DescribeLogStreams", params, service="logs") == params
    assert "at 'limit'" in error_of("DescribeLogStreams", {**params, "limit": 0}, service="logs")


def test_known_operations() -> None:
    operations = known_operations()
    assert {"CreateTrainingJob", "DescribeTrainingJob", "ListTrainingJobs"} <= operations
    assert "GetLogEvents" in known_operations("logs")
    assert "GetLogEvents" not in operations


def test_serialize_output_converts_drops_and_filters() -> None:
    class Status(enum.Enum):
        IN_PROGRESS = "InProgress"

    created = datetime(2024, 1, 1, tzinfo=UTC)
    result = {
        "TrainingJobName": "xgb-demo-1",
        "TrainingJobStatus": Status.IN_PROGRESS,
        "CreationTime": created,
        "FailureReason": None,
        "InternalNote": "never on the wire",
        "SecondaryStatusTransitions": [{"Status": "Starting", "StartTime": datetime(2024, 1, 1, 0, 0, 5)}],
        "HyperParameters": {"eta": "0.2"},
    }
    wire = serialize_output("DescribeTrainingJob", result)
    assert wire == {
        "TrainingJobName": "xgb-demo-1",
        "TrainingJobStatus": "InProgress",
        "CreationTime": 1704067200.0,
        "SecondaryStatusTransitions": [{"Status": "Starting", "StartTime": 1704067205.0}],
        "HyperParameters": {"eta": "0.2"},
    }


def test_serialize_output_of_operation_without_output() -> None:
    assert serialize_output("StopTrainingJob", {"anything": 1}) == {}


def test_validates_a_thousand_typical_requests() -> None:
    # Throughput smoke test (no timing asserted): every call must succeed and return an equal copy.
    bodies = [request(TrainingJobName=f"job-{i}") for i in range(1000)]
    results = [validate_input("CreateTrainingJob", body) for body in bodies]
    assert [r["TrainingJobName"] for r in results] == [f"job-{i}" for i in range(1000)]


def test_unbounded_nesting_of_a_recursive_shape_is_a_validation_error_not_a_crash() -> None:
    expression: dict[str, Any] = {}
    current = expression
    for _ in range(3000):
        current["SubExpressions"] = [nested := {}]
        current = nested
    with pytest.raises(ValidationError, match="nested too deeply"):
        validate_input("Search", {"Resource": "TrainingJob", "SearchExpression": expression})
