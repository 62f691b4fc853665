"""Operations tooling that drives a real AWS account (``python -m operations``).

It reads the template, its S3 filters and the Batch Operations job shape through
``stack_model``, which the local runner (``local_pipeline``) reads too; it imports nothing
of the local runner, and the local runner nothing of it.
"""
