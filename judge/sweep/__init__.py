"""`judge sweep`: many trainings of one recipe, ranked by how their models judge against the base.

    trials.py   the trials: a grid or seeded random draws, each a whole recipe with a stable name
    launch.py   training them: one `judge train` child per trial (accelerate, --parallel, resume)
    run.py      the sweep: plan, train, judge every trial as one leaderboard, write sweep.json

The numbers are judge/stats/sweep.py's, the views judge/report/sweep.py's.
"""
