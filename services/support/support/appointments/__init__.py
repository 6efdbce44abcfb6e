"""Appointments: installation and repair visits, confirmed ahead, reminded, rescheduled with consent."""
