"""The private journal: reflections a person chose to save."""
