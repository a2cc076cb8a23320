"""smooth activations (see shared/ACTIVATIONS.md)."""
