"""The first page after login: the rounds, and for an expert their assignments."""
