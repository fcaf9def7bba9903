"""The runner: the command line, running and resuming the notebooks, reports and references.

    cli         `imgclf run|report|publish|refresh-notebooks` (click)
    execute     papermill over the notebooks into one run directory
    steps       steps.json: which steps finished with which parameters, and what a re-run repeats
    manifest    manifest.json: parameters, versions, commit, machine, timings
    report      report.html, the hand-in
    references  committed reference runs under reports/reference/

Stage modules (helpers.datasets, helpers.models, ...) never import the runner.
"""
