"""``python -m research export-schema > schemas/export.schema.json``: print the export line's JSON Schema."""
import sys

from .schema import _main

if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
