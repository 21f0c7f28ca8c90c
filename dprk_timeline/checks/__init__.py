"""The checks, in the order the build runs them: schema (1), integrity (2, with the replay), tables (3),
expectations (4), drift (5)."""
