"""Signing: the chair's sign-off, which freezes the result, and each panel member's signature on it."""
