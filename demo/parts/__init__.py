"""The parts of seed_demo, one per app, called in order by demo.seed. A part imports the apps
and demo.tables / demo.context, never demo.seed."""
