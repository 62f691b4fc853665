"""The local runner's rewrite of events (local_pipeline.event_objects), on every shape the
handlers' parser accepts."""

import json

import pytest
from pipeline_runtime.events import parse_event
from test_events import KEY, SHAPES, _s3

from local_pipeline.event_objects import StoredVersion, with_versions
from tests.events import sns_in_sqs_event


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_with_versions_rewrites_every_shape_and_leaves_the_original(shape):
    event = SHAPES[shape]()
    original = json.loads(json.dumps(event))
    # Found by the key as the parser decodes it: a key it did not decode would name nothing.
    versions = {("b", KEY): StoredVersion(version_id="v9", etag="e9", size=99)}

    (ref,) = parse_event(with_versions(event, versions))
    assert event == original
    if shape == "batch_operations":  # a task carries a version id only
        assert (ref.version_id, ref.etag, ref.size) == ("v9", None, None)
    else:
        assert (ref.version_id, ref.etag, ref.size) == ("v9", "e9", 99)
    assert ref.key == KEY


def test_with_versions_leaves_objects_it_is_given_nothing_for():
    event = sns_in_sqs_event(_s3())
    assert with_versions(event, {}) == event
