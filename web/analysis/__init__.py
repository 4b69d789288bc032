"""The numeric commands (``tuiyou analyze``, ``tuiyou reliability``): the numeric core on a CSV.

Nothing here imports Flask or SQLAlchemy, so these commands start as fast as numpy and scipy.
"""
