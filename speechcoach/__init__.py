"""speechcoach: an offline speech-delivery coach for Mandarin.

The analysis flows load → features → segmentation → metrics → findings → render:

- :mod:`speechcoach.audio` reads a file into a mono 16 kHz signal (the only module that reads audio);
- :mod:`speechcoach.features` computes frame-level energy and voicing;
- :mod:`speechcoach.segmentation` finds speech runs and pauses;
- :mod:`speechcoach.syllables` finds syllable nuclei (the no-script character estimate);
- :mod:`speechcoach.characters` counts the spoken characters of a script;
- :mod:`speechcoach.metrics` turns those into rates and pace;
- :mod:`speechcoach.findings` turns metrics into findings linked to the guidance catalogue;
- :mod:`speechcoach.report` assembles the JSON report; :mod:`speechcoach.render` formats it;
- :mod:`speechcoach.pipeline` ties the steps together; :mod:`speechcoach.cli` is the command line.
"""

__version__ = "0.1.0"
SCHEMA = "speechcoach.report/1"
