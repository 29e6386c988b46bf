"""Every block of the settings and the model of the room that reads it (``AUTOHUB_MATCHING__…`` → matching).

Why here, in the roof: each room reads its own block (``core.settings.Settings.section``) and the settings
object knows none of them; only the roof, which may import every room, can list them all — to check them when
a command starts (a wrong ``AUTOHUB_MATCHING__…`` fails the command at once, not an hour into a job) and to
say which variable names exist at all (the deployment files' checks). The shipped sources' blocks
(``AUTOHUB_ERP__…``) are those of their declared connector types.
"""

from __future__ import annotations

from pydantic import BaseModel

from connectors.sources import legacy_blocks
from core.settings import Settings
from jobs.config import OrchestrationConfig
from matching.config import MatchingConfig
from outbox.config import OutboxConfig
from pipeline.screen import InputLimits

ROOM_BLOCKS: dict[str, type[BaseModel]] = {
    "matching": MatchingConfig,
    "outbox": OutboxConfig,
    "orchestration": OrchestrationConfig,
    "input": InputLimits,
}


def settings_blocks() -> dict[str, type[BaseModel]]:
    return {**ROOM_BLOCKS, **legacy_blocks()}


def check_blocks(settings: Settings) -> None:
    """Read and validate every block; ``ConfigError`` names the first wrong variable."""
    for name, model in settings_blocks().items():
        settings.section(name, model)
