"""The features beside the engine's own routing, one package each (declared, in order, in `bot/app.py`).

Each package's `feature.py` holds the class implementing `bot.engine.features.Feature`:
booking (the booking form and its staff side), handoff (a person talks to the centre's team),
journal (saved reflections). `staff/` routes what staff do in the staff group to them.
"""
