"""Ingestion building block: the generic incident model and the vendor mappings (pure)."""
