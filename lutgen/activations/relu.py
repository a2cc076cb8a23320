"""relu activations (see shared/ACTIVATIONS.md)."""
