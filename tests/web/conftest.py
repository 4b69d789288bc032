"""The web tests, one folder per feature package of ``web/`` (tests/web/<feature>/); the builders
they share are the package ``helpers`` beside this file (``from helpers.review import scored_round``).

pytest puts this folder on ``sys.path`` (its rootdir-less conftest), which is what makes
``helpers`` importable from every feature folder; the fixtures every web test uses (``app``,
``client``, ``session``, ``make_user``, ``demo``) are in tests/conftest.py.
"""
