"""The business rules, once for every backend: users and profiles, messages and the archive, facts with
provenance and versions, metrics, memories and the global context, streaks, export and import."""
