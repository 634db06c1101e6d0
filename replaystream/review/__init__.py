"""Reading cassettes for people: ``inspect`` summaries and ``check`` findings."""
