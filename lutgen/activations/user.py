"""User-defined activations: the decorator, safe expressions, and the lut activation."""
