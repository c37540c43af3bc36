"""The front ends: the command line, batch runs, the CI gate, the practice server, the recorder.

``cli`` is the only module that prints or exits. Each front end is a layer around
:func:`speechcoach.analysis.pipeline.analyze_file` and the reports of :mod:`speechcoach.render`.
"""
