"""Record and replay: what a console saw (snapshots, events, findings, actions), as gzipped
JSON lines, played back by ``jaraba-ops replay`` and ``demo``. No textual here.

- :mod:`.codec`: the line format (header, ``update``, ``audit``, ``end``) and its decoding.
- :mod:`.writer`: :class:`Recorder`, fed by the console where EngineUpdates are emitted and
  from the audit log; scrubs every line and flushes regularly.
- :mod:`.reader`: :func:`load_recording` (tolerates a truncated file; refuses a bad one
  with a :class:`RecordingError` that says why).
- :mod:`.player`: :class:`ReplayPlayer`, replay time, speed, pause, step and seek.
- :mod:`.live`: a recording wrapper around the console's live update source.
"""

from jaraba_tui.record.codec import FORMAT, VERSION, RecordingError
from jaraba_tui.record.player import ReplayPlayer
from jaraba_tui.record.reader import Frame, Recording, load_recording
from jaraba_tui.record.writer import Recorder

__all__ = [
    "FORMAT",
    "VERSION",
    "Frame",
    "Recorder",
    "Recording",
    "RecordingError",
    "ReplayPlayer",
    "load_recording",
]
