"""The staff side, channel-neutral: staff commands, card buttons and replies (`router`)."""
