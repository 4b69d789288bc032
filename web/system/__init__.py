"""App-wide commands: the database schema, serving, the demo, the audit log."""
