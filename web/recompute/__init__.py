"""The chair's rankings recomputed in the background after ratings change (issue 24).

``queue.py`` is what a write calls (one upsert into ``recomputejob``, debounced per round);
``runner.py`` claims due jobs across every app server and runs them; ``worker.py`` is the
thread each app server runs; ``cli.py`` is ``tuiyou recompute``.
"""
