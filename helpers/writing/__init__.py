"""The report's words and figures (01-08 and report.html), written from the run's records:
what the data and network are (narrative), what the figures show (observations), what the
curves show (curves), the brief's comparisons, deployment, the conclusion, the figures and
their captions (plots, figure_texts), and the report's settings table and appendix."""
