"""Demo and benchmark data: a seeded generator of realistic mSupply-shaped records, and `manage.py
demodata`, which writes them through the normal write path with demo sites, stores and users.

`seed_demo` (seeding.py) creates the demo sites, stores and users and writes central and store data
through `primary_changes_apply` in batches, so the satellites' queues fill by the normal fan-out. The
`generate_*` functions (generators.py) build one record each as a plain dict (no database), shaped
like the legacy records real clients send (numbers, booleans, "YYYY-MM-DD" or "0000-00-00" dates,
~1-2 KB of JSON): a benchmark can call them directly. Everything is drawn from `random.Random`
objects derived from one seed, one per table, so the same seed gives the same ids whatever the other
tables' sizes. `import_schedule.py` adds an example import schedule on a bundled CSV.
"""
