"""The JSON backend: the documented folder layout (v1 files), a write-ahead journal per user, batched
materialization, transactions under file locks."""
