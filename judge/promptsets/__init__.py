"""Prompt sets: the built-in set (builtin.jsonl, shipped in the wheel), local files and hub sets."""
