"""replyparse: Chinese government reply letters (答复函) to structured, searchable records."""
__version__ = "0.1.0"

from .pipeline import parse_file, parse_paths, parse_text  # noqa: E402,F401
from .tables import TableWriter, read_tables, to_frames, write_tables  # noqa: E402,F401
