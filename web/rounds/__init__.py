"""Rounds: keys and calendars, states (draft → intake → scoring → review → signed), the annual round."""
