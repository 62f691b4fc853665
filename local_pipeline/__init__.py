"""Run the SAM stack's real handlers locally, against an embedded S3 emulator.

No Docker, no AWS account: buckets, notifications and functions come from template.yaml.
"""
