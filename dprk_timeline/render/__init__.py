"""The render: the replayed state as the package's files (tables, descriptor, codebook, charts)."""
