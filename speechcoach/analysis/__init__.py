"""The analysis: a pure function of (signal, sample rate, script, settings).

``pipeline`` runs the steps in order: ``features`` (10 ms frames) → ``segmentation`` (speech
runs and pauses) → ``syllables`` (nuclei and the no-script count) → ``alignment`` and
``placement`` (the script in time, each pause judged) → ``metrics`` (rates, pace, score) →
``findings`` (linked to the guidance). It may import precise mode and the foundations, never
the reports or the front ends.
"""
