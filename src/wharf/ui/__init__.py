"""``wharf dev``: a local web UI over the run history, and the schedule and sensor daemon.

Needs the ``wharf[ui]`` extra (Starlette, uvicorn, croniter). ``import wharf`` never imports
this package. The parts, in reading order:

- :mod:`wharf.ui.workspace`: the code location, reloaded when its file changes.
- :mod:`wharf.ui.views`: the JSON the page and the CLI share (graph, asset, runs, run).
- :mod:`wharf.ui.preview`: the first rows of a stored value, through its I/O manager.
- :mod:`wharf.ui.launcher`: runs launched from the page, each in a worker process.
- :mod:`wharf.ui.daemon`: schedules and sensors, ticking in the server's process.
- :mod:`wharf.ui.app`: the Starlette app (token check, API routes, live events, static page).
- :mod:`wharf.ui.server`: ``wharf dev`` itself (uvicorn plus the daemon).
"""
