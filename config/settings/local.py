"""A developer's laptop: debug on, the embedded SQLite and eager Celery unless told otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
