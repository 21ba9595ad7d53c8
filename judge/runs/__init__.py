"""Storage: what judge keeps on disk for a run, a leaderboard or a sweep (the folder lock)."""
