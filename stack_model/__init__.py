"""The stack as template.yaml declares it, read offline and shared by the tools around it.

- ``template``: the template with its intrinsic functions resolved for one deployment: the
  buckets, the functions (handler, code, layers, environment, retries) and their S3 events;
- ``s3_filters``: which functions a key triggers, and which filters a prefix reaches;
- ``batch_operations``: the shape of an S3 Batch Operations job that invokes Lambda.

Pure reading, no AWS call and no emulator: the local runner (``local_pipeline``) and the
tools that drive a real account (``operations``) both import it, and it imports neither.
"""
