"""Which source a connector reads and where its settings were written, so that an error names the setting the
user has to correct, in the place they wrote it.

Why: the ERP's errors named ``AUTOHUB_ERP__…`` variables whatever the source — a SAP service declared as
``sap_ecc`` in a sources file was told to set ``AUTOHUB_ERP__PASSWORD``, which configures another source. A
declared source's setting is ``sources.yaml: sap_ecc.settings.password``; a shipped source's setting that the
file does not write is its ``AUTOHUB_<SOURCE>__…`` variable (which wins over the file where both are set).
Every connector type is built with one of these (``connectors/types.py``'s ``BuildContext.origin``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceOrigin:
    source: str  # the declared instance's name: the records' source
    file: Path | None = None  # the sources file declaring it; None: configured in code or the environment
    # its top-level settings the file writes (and no variable overrides)
    in_file: frozenset[str] = frozenset()
    env_block: str | None = None  # the AUTOHUB_<BLOCK>__… variables that configure it too (the shipped five)

    @classmethod
    def of(cls, origin: SourceOrigin | str, *, env_block: str | None = None) -> SourceOrigin:
        """A bare name is a source configured in code (a test, the demo): its settings, if any block has them,
        are that block's variables."""
        return origin if isinstance(origin, SourceOrigin) else cls(origin, env_block=env_block)

    @property
    def where(self) -> str:
        """The source as an error's opening words: the file and its name."""
        return f"{self.file}: source {self.source!r}" if self.file else f"source {self.source!r}"

    def setting(self, dotted: str) -> str:
        """``dotted`` (``password``, ``streams.customers.page_size_param``) as the user writes it here."""
        top = dotted.split(".", 1)[0]
        if self.file is not None and (self.env_block is None or top in self.in_file):
            return f"{self.file}: {self.source}.settings.{dotted}"
        if self.env_block is not None:
            head, dot, rest = dotted.partition(".")
            return f"AUTOHUB_{self.env_block.upper()}__{head.upper()}{dot}{rest}"
        return f"settings.{dotted}"
