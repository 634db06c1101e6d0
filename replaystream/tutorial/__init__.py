"""The streaming tutorial replayed offline: its sections, their shipped cassettes (package
data in ``cassettes/``), and ``replaystream demo``."""
