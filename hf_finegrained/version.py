"""The package version: one home, read by `hf_finegrained.__version__`, results files and setup.py."""

__version__ = "0.1.0"
