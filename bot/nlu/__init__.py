"""Pure language functions: normalise text, match intents, check safety (no I/O at import)."""
