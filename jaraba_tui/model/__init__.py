"""The model: StackSnapshot, health findings, timeline events, history. No I/O, no UI."""
