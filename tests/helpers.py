"""Test data: re-exports the package's tiny generated rows (see hf_finegrained/demo_data.py)."""

from hf_finegrained.demo_data import NEGATIVE_TYPES, all_captions, draw, make_dataset, make_rows

__all__ = ["NEGATIVE_TYPES", "all_captions", "draw", "make_dataset", "make_rows"]
