"""Load and validate intents/ and content/ into frozen models (no I/O at import)."""
