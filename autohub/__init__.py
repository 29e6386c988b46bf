"""AutoHub's roof: the ``autohub`` command line (``cli/``), the demo, and the check of every settings block.

The one room that may import every other. Settings, the error tree and logging live on the ground floor,
``core/``.
"""

__version__ = "0.1.0"
