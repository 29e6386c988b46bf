"""Seeded sample data for the five sources, with ground truth, from 1 000 to 1 000 000 people."""

from sample_data.generator import DEFECTS_THAT_QUARANTINE, GeneratedRecord, generate

__all__ = ["DEFECTS_THAT_QUARANTINE", "GeneratedRecord", "generate"]
