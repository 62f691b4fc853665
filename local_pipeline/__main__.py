"""``python -m local_pipeline``: see ``local_pipeline.cli``."""

# Function sandboxes are spawned processes, and spawn re-imports this module in each of
# them (as __mp_main__): importing the CLI only here keeps moto and boto3 out of them.
if __name__ == "__main__":
    import sys

    from local_pipeline.cli import main

    sys.exit(main())
