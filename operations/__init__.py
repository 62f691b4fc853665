"""Operations tooling that drives a real AWS account (``python -m operations``).

The local emulator (``local_pipeline``) never imports this package; this package reads the
template and its routing through ``local_pipeline``'s template reader, the one place that
knows the stack's S3 filters.
"""
