"""Shared runtime of both functions: event parsing, S3 I/O with retries, observability,
configuration and outcome handling. It imports no function code."""
