"""Compatibility import path (issue #21): what this module held moved to sb3_cartdqn.persistence."""

from sb3_cartdqn.persistence.env_state import *  # noqa: F403
