"""Booking a therapist: the steps (`feature`, `steps`, `changes`) and what staff do with a request."""
