"""piecewise activations (see shared/ACTIVATIONS.md)."""
