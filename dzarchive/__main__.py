"""``python -m dzarchive``: the ``dzarchive`` command."""
from .launch import main

main()
