"""The demo app, the top floor: the demo street (`manage.py seed_demo`) and the synthetic
district for benchmarks (`manage.py seed_scale`). It stands on every other app and no app
imports it."""
