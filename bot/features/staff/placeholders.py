"""The placeholders of the texts booking, handoff and the staff tools fill in, for `python -m bot check`.

Kept apart from the staff router because it is data about content, not routing: the content
check (`bot.app`) reads it to accept these placeholders beside the shared ones.
"""

from __future__ import annotations

from typing import Final

# The placeholders of the texts booking, handoff and the staff tools fill in (beyond the shared ones);
# which texts they use, `python -m bot check` finds by reading the code (`bot.catalog.text_keys`).
HANDOFF_PLACEHOLDERS: Final[dict[str, frozenset[str]]] = {
    "book_slots_intro": frozenset({"zone"}),
    "book_note_trimmed": frozenset({"limit"}),
    "book_summary": frozenset({"summary", "shared"}),
    "book_received": frozenset({"how"}),
    "book_line_who": frozenset({"value"}),
    "book_line_mode": frozenset({"value"}),
    "book_line_when": frozenset({"when", "zone", "therapist"}),
    "book_line_contact": frozenset({"value"}),
    "book_line_note": frozenset({"value"}),
    "book_contact_phone": frozenset({"phone"}),
    "book_update_confirmed": frozenset({"when", "zone", "mode", "therapist"}),
    "book_update_proposed": frozenset({"when", "zone", "therapist"}),
    "book_reminder_day": frozenset({"when", "zone", "mode"}),
    "book_reminder_hour": frozenset({"time"}),
    "book_mine": frozenset({"summary", "status"}),
    "book_cancel_question": frozenset({"when"}),
    "book_proposal_accepted": frozenset({"when", "zone", "therapist"}),
    "book_change_sent_time": frozenset({"when", "zone", "reply"}),
    "book_change_sent_note": frozenset({"reply"}),
    "book_line_change_time": frozenset({"when", "zone"}),
    "book_line_change_note": frozenset({"value"}),
    "handoff_intro_closed": frozenset({"next_open"}),
    "handoff_when_today": frozenset({"time"}),
    "handoff_when_tomorrow": frozenset({"time"}),
    "handoff_when_later": frozenset({"day", "time"}),
    "handoff_from_staff": frozenset({"message"}),
    "staff_handoff_opened": frozenset({"name", "ref"}),
    "staff_handoff_opened_by_staff": frozenset({"name", "ref"}),
    "staff_relay_header": frozenset({"name", "ref"}),
    "staff_handoff_ended_by_person": frozenset({"name", "ref"}),
    "staff_handoff_closed": frozenset({"name", "ref"}),
    "staff_booking_card": frozenset({"id", "details", "status"}),
    "staff_propose_pick": frozenset({"id"}),
    "staff_propose_none": frozenset({"id"}),
    "staff_booking_person_cancelled": frozenset({"id"}),
    "staff_booking_person_change": frozenset({"id"}),
    "staff_booking_person_accepted": frozenset({"id"}),
    "staff_booking_person_declined": frozenset({"id"}),
    "staff_booking_withdrawn": frozenset({"id"}),
    "staff_booking_stale": frozenset({"id", "status"}),
    "staff_banned": frozenset({"ref"}),
    "staff_unbanned": frozenset({"ref"}),
    "staff_stats": frozenset({"days", "people", "intents", "fallbacks", "bookings", "safety", "handoffs"}),
    "staff_stats_set_aside": frozenset({"count", "kinds", "since"}),
    "staff_unanswered_header": frozenset({"days"}),
    "staff_unanswered_none": frozenset({"days"}),
}
