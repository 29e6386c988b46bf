"""What every fake partner's ``main()`` shares: a world of generated people to serve, and where to listen."""

from __future__ import annotations

import argparse


def world_parser(description: str | None, port: int) -> argparse.ArgumentParser:
    """``--people --seed --host --port``: two fakes started with one seed serve the same world (the same people
    in the ERP and at the insurer), as the demo's sources do."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument(
        "--seed", type=int, default=42, help="the generator's seed (the same world in every fake)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=port)
    return parser
