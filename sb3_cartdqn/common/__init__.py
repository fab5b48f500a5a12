"""Pieces shared by CartDQN's variants: the exploration schedule, the target update, the durations callback."""
