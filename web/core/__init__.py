"""App-wide infrastructure: database and models, migrations, who is asking, errors and
refusals, the audit log, limits, security headers, i18n, the command table."""
