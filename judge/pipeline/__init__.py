"""The compare pipeline: plan a run, generate both sides, judge every pair in both orders, and keep
every model call in the run folder's append-only ledgers, so a rerun pays only for what is missing.
"""
