"""What a run writes: tables (CSV, XLSX, Parquet), summaries, search-engine exports, the review report."""
