"""Compatibility import path (issue #21): what this module held moved to sb3_cartdqn.persistence."""

from sb3_cartdqn.persistence.codec import *  # noqa: F403
