"""The wire level: HTTP transports patched on the class, the session behind a cassette, and
what it relies on (matching, scrubbing, faults, pacing, the network guard)."""
