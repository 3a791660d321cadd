"""The event-stream benchmark: `python -m bench.streams.bench` from the repository root."""
