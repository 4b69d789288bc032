"""Every ``tuiyou`` command, as data: where it lives and its one-line help.

Both the ``tuiyou`` script (``web.cli``) and ``flask --app web`` (``app.cli``) read this table
and import a command's module only when it runs.
"""
from __future__ import annotations

# name → ("module:command", short help shown by ``tuiyou --help`` without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "init-db": ("web.system.cli:init_db_command", "Create or migrate the database to the newest schema."),
    "serve": ("web.system.cli:serve_command", "Serve the app with waitress (a production WSGI server)."),
    "demo": ("web.system.cli:demo_command", "Build a realistic demo in a fresh SQLite file and serve it."),
    "audit": ("web.system.cli:audit_group", "Check the append-only audit log."),
    "backup": ("web.system.cli:backup_command", "Write a consistent backup of the whole database to PATH."),
    "restore": ("web.system.cli:restore_command", "Restore a backup made by `tuiyou backup`, then migrate."),
    "user": ("web.accounts.cli:user_group", "Manage accounts."),
    "round": ("web.rounds.cli:round_group", "Create rounds and move them through their states."),
    "rating": ("web.rating.cli:rating_group", "Scoring progress per expert; let an expert reopen a submitted form."),
    "import-works": ("web.intake.cli:import_works_command",
                     "Check and import works (CSV or XLSX) into a round: all rows or none."),
    "import-cases": ("web.intake.cli:import_cases_command",
                     "Check and import dissemination cases (优秀传播案例): all rows or none."),
    "import-template": ("web.intake.cli:import_template_command", "Write the XLSX import template."),
    "assign": ("web.assignment.cli:assign_command",
               "Draw experts for a round's works (seeded, conflict-free, incremental); prints the report."),
    "experts": ("web.assignment.cli:experts_group", "Import the expert pool (CSV/XLSX) and set passwords."),
    "result": ("web.review.cli:result_group",
               "Re-derive a signed result from the stored ratings (`result verify KEY [--version N]`)."),
    "recompute": ("web.recompute.cli:recompute_group",
                  "The chair's rankings recomputed after ratings change: `recompute run-pending`, `recompute worker`."),
    "analyze": ("web.analysis.cli:analyze_command",
                "Normalize rater bias and rank works within category from a ratings CSV."),
    "reliability": ("web.analysis.cli:reliability_command",
                    "Inter-rater reliability (ICC or Krippendorff's alpha) of a ratings CSV."),
}
