"""The LangChain layer: fakes that are real components, ``astream_events`` normalisation,
the syrupy extension, propagation checks and event filtering. Loaded only when used."""
