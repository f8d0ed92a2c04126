"""Model families: one module per family (torch module + thin estimator)."""
