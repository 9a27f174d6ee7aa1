"""What a run leaves behind and what it depends on: the evaluations and the result
(result.py), the run directory's files and format (rundir.py, files.py), what config.json
records for a resume to compare (run_record.py), the machine and the reproducible context
(environment.py), and a run's progress read back without numpy or torch (progress.py)."""
