"""speechcoach: an offline speech-delivery coach for Mandarin.

The analysis flows load → features → segmentation → metrics → findings → render:

- :mod:`speechcoach.audio` reads a file into a mono 16 kHz signal (the only module that reads audio);
- :mod:`speechcoach.analysis.features` computes frame-level energy and voicing;
- :mod:`speechcoach.analysis.segmentation` finds speech runs and pauses against a noise floor that follows the background;
- :mod:`speechcoach.analysis.syllables` finds syllable nuclei (the no-script character estimate);
- :mod:`speechcoach.characters` counts the spoken characters of a script
  (:mod:`speechcoach.precise.asr`, optional precise mode, counts them from a transcript);
- :mod:`speechcoach.analysis.alignment` and :mod:`speechcoach.analysis.placement` place the script and the pauses;
- :mod:`speechcoach.analysis.metrics` turns those into rates, pace and the score (numbers judged as shown);
- :mod:`speechcoach.analysis.findings` turns metrics into findings linked to the guidance catalogue;
- :mod:`speechcoach.render.report` assembles the JSON report; :mod:`speechcoach.render` formats it;
- :mod:`speechcoach.analysis.pipeline` ties the steps together; :mod:`speechcoach.app.cli` is the command line
  (the only module that prints or exits).

``docs/architecture.md`` lists every module.
"""

__version__ = "0.1.0"
SCHEMA = "speechcoach.report/1"
