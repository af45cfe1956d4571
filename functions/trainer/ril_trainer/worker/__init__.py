"""The platform worker: claims TRAIN / EVALUATE jobs over the GraphQL API and runs the trainer for them.

Kept apart from the algorithm library on purpose: it depends on the library (it starts ``python -m
ril_trainer train`` and scores bundles with ``evaluate``), never the other way round, so the library stays
usable without a platform (tests/test_imports.py enforces it).

  client.py     GraphQL + presigned blob transfers (standard library only)
  child_env.py  the allowlisted environment of the trainer processes it starts
  loop.py       register -> claim -> run a job -> report; ``python3 -m ril_trainer worker``
"""
from .loop import main

__all__ = ["main"]
