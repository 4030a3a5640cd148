"""The dashboard client and its models and errors: all of it free of Home Assistant imports."""

from . import errors, models
from .client import NezhaClient, normalize_url
from .errors import *  # noqa: F403 - every error, as errors.__all__ lists them
from .models import *  # noqa: F403 - the models of models.__all__
from .note import parse_public_note

__all__ = ["NezhaClient", "normalize_url", "parse_public_note"]
__all__ += errors.__all__
__all__ += models.__all__
