"""Bulk runs: walking the inputs, the per-file work, the result cache, the engines (serial,
local processes, Dask) and progress — the one executor every command uses."""
