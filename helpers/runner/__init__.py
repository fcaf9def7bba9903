"""The runner: the command line, running and resuming the notebooks, reports and references.

    cli          `imgclf run|report|publish|refresh-notebooks|sweep|compare` (click)
    execute      papermill over the notebooks into one run directory
    live         training's epoch lines in the terminal while 04 runs
    steps        steps.json: which steps finished with which parameters, what a re-run repeats
    manifest     manifest.json: parameters, versions, commit, machine, timings
    report       report.html, the hand-in (its words and tables: helpers.writing)
    references   committed reference runs under reports/reference/
    sweep*       grids of runs on an Optuna study (sweep_grid, sweep_trials, sweep_worker)
    leaderboard  the ranked table of a sweep's runs; compare: the comparison notebook

Stage modules (helpers.data.datasets, helpers.model.networks, ...) never import the runner.
"""
