"""replyparse: Chinese government reply letters (答复函) to structured, searchable records."""
__version__ = "0.1.0"

# The Python API, imported on first use: `replyparse --version` and a one-letter parse must not pay
# for pandas, pyarrow or the extractors they do not need.
_API = {
    "parse_file": "pipeline", "parse_paths": "pipeline", "parse_text": "pipeline",
    "TableWriter": "out.tables", "read_tables": "out.tables", "to_frames": "out.tables", "write_tables": "out.tables",
}
__all__ = ["__version__", *_API]


def __getattr__(name):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'replyparse' has no attribute {name!r}")
