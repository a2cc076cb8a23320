"""gated activations (see shared/ACTIVATIONS.md)."""
