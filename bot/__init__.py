"""Alumaura's support bot: FAQ, reflection flows, safety and handoff to the centre's staff."""
