"""``python -m operations``: see ``operations.cli``."""

if __name__ == "__main__":
    import sys

    from operations.cli import main

    sys.exit(main())
