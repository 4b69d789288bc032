"""Shared builders of the web tests (scenes, files, sessions), imported as ``helpers.<feature>``."""
