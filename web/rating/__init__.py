"""The expert's side: their assignments, the blind scoring form and its saves."""
