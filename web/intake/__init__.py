"""Intake: importing works and dissemination cases, the template, the entries list and the
provincial recommendation page."""
