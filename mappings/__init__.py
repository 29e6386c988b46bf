"""Source → canonical mappings: one YAML file per source and the small generic engine that applies them.

Adding a source or a field is a YAML change; see mappings/README.md for the language.
"""

from mappings.engine import MappedRecord, Mapper
from mappings.policies import RejectedEntity
from mappings.registry import MappingRegistry, load_mapping

__all__ = ["MappedRecord", "Mapper", "MappingRegistry", "RejectedEntity", "load_mapping"]
