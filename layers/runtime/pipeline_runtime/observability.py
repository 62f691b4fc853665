"""Powertools Logger, Metrics and Tracer, configured once for both functions.

Service name and metric namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE, which the template sets per function.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(utc=True)
metrics = Metrics()
# Only botocore is patched: S3 calls are the only I/O worth a subsegment, and patching
# everything X-Ray knows (http.client, sqlite3, ...) costs import time at every cold start.
tracer = Tracer(patch_modules=("botocore",))

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
