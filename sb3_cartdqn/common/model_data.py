"""Compatibility import path (issue #21): what this module held moved to sb3_cartdqn.persistence."""

from sb3_cartdqn.persistence.fields import *  # noqa: F403
from sb3_cartdqn.persistence.model_file import *  # noqa: F403
