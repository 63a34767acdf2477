"""The version of spasm-cv: one place (read by the package, the build and summaries)."""

__version__ = "0.1.0"
