"""``python -m local_pipeline``: see ``local_pipeline.cli``. Use ``bin/local-pipeline``."""

# Function sandboxes are spawned processes, and spawn re-imports this module in each of
# them (as __mp_main__): importing the CLI only here keeps moto and boto3 out of them.
if __name__ == "__main__":
    import sys

    try:
        # boto3 first, whatever order the command modules import their libraries in: it
        # is the dependency the message below names when the venv is missing.
        import boto3  # noqa: F401

        from local_pipeline.cli import main
    except ModuleNotFoundError as missing:  # a python without the project's venv
        print(
            f"error: {sys.executable} lacks the project's dependencies ({missing.name}); "
            "use bin/local-pipeline, which runs the project's venv (`make demo` creates it)",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(main())
