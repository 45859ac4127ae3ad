"""Pure functions: how much moves, who gets what."""
