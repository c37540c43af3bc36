"""Precise mode: an offline speech recogniser and what is read from its transcript.

``asr`` decodes (Whisper through faster-whisper), ``cache`` keeps transcripts, ``model`` installs
and finds the model, ``fillers`` and ``jargon`` match the editable word lists. Nothing here is
imported until a transcription is asked for. It may import only the foundations.
"""
