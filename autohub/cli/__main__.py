"""``python -m autohub.cli``: the command line without its console script (a worker started by path in tests)."""

from autohub.cli import main

main()
