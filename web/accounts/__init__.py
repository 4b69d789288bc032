"""Accounts: login and logout, users, password hashes and API tokens."""
