"""The rule engine: rule files loaded, validated against the schema and compiled (``rules``),
their literal prefilters (``prefilter``), the field table (``fields``) and the examples runner."""
