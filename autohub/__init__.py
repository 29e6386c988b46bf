"""AutoHub's application shell: settings, error tree, logging and the ``autohub`` command line."""

__version__ = "0.1.0"
