"""A person talks to the centre's team through the bot; staff answer as "the centre's team"."""
