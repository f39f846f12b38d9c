"""``python -m dzarchive``: the ``dzarchive`` command."""
from .cli import main

main()
